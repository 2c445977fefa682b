import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { readDoc } from "./docs";
import { ROOT } from "./helpers";

// docs/architecture.md has one paragraph per code folder, opened by the
// folder's name in bold. A new folder without one, or a file a paragraph
// names that was renamed or removed, fails here.

const PAGE = "docs/architecture.md";

/** The folders whose code the page must describe: each folder of lib/, and the top-level code folders. */
function codeFolders(): string[] {
    const lib = fs
        .readdirSync(path.join(ROOT, "lib"), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => `lib/${d.name}`);
    return [...lib, "components", "policies", "cli", "test"].sort();
}

/** Each folder paragraph of the page: the folder and the text up to the next blank line. */
function paragraphs(): Map<string, string> {
    const out = new Map<string, string>();
    for (const p of readDoc(PAGE).split(/\n\s*\n/)) {
        const m = /^\*\*`([\w/-]+)\/`/.exec(p);
        if (m) out.set(m[1], p);
    }
    return out;
}

describe(PAGE, () => {
    it("has one paragraph for every code folder, and none for a folder that does not exist", () => {
        expect([...paragraphs().keys()].sort()).to.deep.equal(codeFolders());
    });

    it("names only files that exist in the folder its paragraph describes", () => {
        const missing: string[] = [];
        for (const [folder, text] of paragraphs()) {
            for (const m of text.matchAll(/`([\w.-]+\.ts)`/g)) {
                if (!fs.existsSync(path.join(ROOT, folder, m[1]))) missing.push(`${folder}/${m[1]}`);
            }
        }
        expect(missing).to.deep.equal([]);
    });
});
