import { expect } from "chai";
import { main } from "../cli/adopt";
import { RULES } from "../lib/adopt/rules";
import { SUPPORT } from "../lib/adopt/support";
import type { CheckerIo } from "../lib/gates/checker";
import { readDoc, section } from "./docs";
import { ROOT } from "./helpers";

// docs/adopting.md copies two tables of the code and the command's exit
// statuses: each must stay what the code says.

const PAGE = readDoc("docs/adopting.md");

/** The body rows of the first Markdown table in `text`, cells trimmed. */
function rows(text: string): string[][] {
    return text
        .split("\n")
        .filter((l) => l.startsWith("|") && !/^\|[-| ]+\|$/.test(l))
        .slice(1)
        .map((l) =>
            l
                .replace(/^\||\|$/g, "")
                .split("|")
                .map((c) => c.trim()),
        );
}

describe("docs/adopting.md", () => {
    it("lists the Kubernetes versions of lib/adopt/support.ts, row for row", () => {
        const table = rows(section(PAGE, "Kubernetes versions each component supports"));
        expect(table).to.deep.equal(SUPPORT.map((r) => [r.component, r.release, r.min, r.max, r.source]));
    });

    it("describes every transition rule, and none the code does not have", () => {
        const table = rows(section(PAGE, "The transition rules")).map((r) => r[0].replace(/`/g, ""));
        expect(table).to.deep.equal([...RULES]);
    });

    it("gives the exit statuses npm run adopt --help gives", async () => {
        let out = "";
        const io: CheckerIo = { out: (t) => (out += t), err: () => {}, cwd: ROOT, signal: new AbortController().signal };
        expect(await main(["--help"], io)).to.equal(0);
        const help = [...out.slice(out.indexOf("Exit status:")).matchAll(/(?:^|[:;,])\s+(\d+)\s/g)].map((m) => Number(m[1]));
        const table = rows(section(PAGE, "Running it")).map((r) => Number(r[0]));
        expect(table).to.deep.equal(help);
    });
});
