import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./helpers";
import { SCHEMAS } from "./schemas";

/** The repository's tracked files (a clone always has its Git metadata), relative to ROOT. */
function trackedFiles(): string[] {
    return execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
}

// Built from pieces so that this file does not match itself.
const SIBLING = ["..", ["sha", "red"].join("")];
const FORBIDDEN: { what: string; re: RegExp }[] = [
    { what: "a path to the workplace's sibling folder", re: new RegExp(`\\.\\./${SIBLING[1]}\\b`) },
    { what: "a path to the workplace's sibling folder", re: new RegExp(`["']\\.\\.["']\\s*,\\s*["']${SIBLING[1]}["']`) },
    { what: "an absolute path of this workplace", re: new RegExp(`/${"work"}/`) },
    { what: "an absolute home directory", re: new RegExp(`(?:/${"home"}/[a-z]|/${"Users"}/[A-Za-z]|/${"root"}/)`) },
    { what: "an environment-variable fallback for the schemas", re: new RegExp(`TALOS_PLATFORM_${"SCHEMAS"}`) },
];

describe("a fresh clone stands alone", () => {
    it("no tracked file names a path outside the repository", () => {
        const hits: string[] = [];
        for (const file of trackedFiles()) {
            // Upstream files, and the chart data generated from them (a schema path through a key named root is no home directory).
            if (file === "package-lock.json" || file.startsWith("test/upstream/") || /^lib\/charts\/data\/.+\.(js|json)$/.test(file))
                continue;
            const text = fs.readFileSync(path.join(ROOT, file), "utf8");
            text.split("\n").forEach((line, i) => {
                for (const f of FORBIDDEN) if (f.re.test(line)) hits.push(`${file}:${i + 1}: ${f.what}: ${line.trim()}`);
            });
        }
        expect(hits).to.deep.equal([]);
    });

    it("the scan finds each kind of outside path it looks for", () => {
        const samples = [
            `path.resolve(ROOT, "..", "${SIBLING[1]}", "schemas")`,
            `see ../${SIBLING[1]}/schemas`,
            `"/${"work"}/shared/schemas"`,
            `/${"home"}/alice/schemas`,
            `process.env.TALOS_PLATFORM_${"SCHEMAS"}`,
        ];
        for (const s of samples)
            expect(
                FORBIDDEN.some((f) => f.re.test(s)),
                s,
            ).to.equal(true);
        expect(FORBIDDEN.some((f) => f.re.test('path.join(ROOT, "test", "upstream")'))).to.equal(false);
    });

    it("the tests read their upstream schemas from inside the repository", () => {
        expect(path.relative(ROOT, SCHEMAS)).to.equal(path.join("test", "upstream"));
    });
});

describe("vendored upstream files (test/upstream/SOURCES.md)", () => {
    const sources = fs.readFileSync(path.join(SCHEMAS, "SOURCES.md"), "utf8");
    // | `local file` | repository | upstream path | tag | licence | `sha256` |
    const rows = [...sources.matchAll(/^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| `([0-9a-f]{64})` \|$/gm)].map((m) => ({
        file: m[1],
        repo: m[2].trim(),
        tag: m[4].trim(),
        licence: m[5].trim(),
        sha256: m[6],
    }));

    function vendored(dir = SCHEMAS): string[] {
        return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
            const p = path.join(dir, e.name);
            return e.isDirectory() ? vendored(p) : [path.relative(SCHEMAS, p)];
        });
    }

    it("lists every vendored file, and only those", () => {
        const files = vendored().filter((f) => f !== "SOURCES.md");
        expect(rows.length).to.be.greaterThan(0);
        expect(rows.map((r) => r.file).sort()).to.deep.equal(files.map((f) => f.split(path.sep).join("/")).sort());
    });

    it("names each file's repository, tag and licence, and its release commit", () => {
        for (const r of rows) {
            expect(r.repo, r.file).to.match(/^[\w.-]+\/[\w.-]+$/);
            expect(r.tag, r.file).to.match(/\S/);
            expect(r.licence, r.file).to.match(/^(Apache-2\.0|AGPL-3\.0|MPL-2\.0|MIT)$/);
            expect(sources, `${r.file}: release row for ${r.tag}`).to.match(
                new RegExp(`\\| ${r.tag.replace(/[.]/g, "\\.")}[^|]*\\| \`[0-9a-f]{40}\` \\|`),
            );
        }
    });

    it("each file is the one its row describes (SHA-256)", () => {
        for (const r of rows) {
            const sum = createHash("sha256")
                .update(fs.readFileSync(path.join(SCHEMAS, r.file)))
                .digest("hex");
            expect(sum, r.file).to.equal(r.sha256);
        }
    });
});
