import { expect } from "chai";
import * as path from "node:path";
import { anchors, docFiles, links, readDoc, slug, workingTreeFiles } from "./docs";

/** Line anchors GitHub gives a source file: #L10, #L10-L20. */
const LINE_ANCHOR = /^L\d+(-L\d+)?$/;

/** Every link in `pages` that does not resolve inside the working tree `tree`, as `page:line: target: why`. */
export function brokenLinks(pages: string[], tree: readonly string[], read: (file: string) => string): string[] {
    const files = new Set(tree);
    const isDir = (p: string) => tree.some((f) => f.startsWith(p + "/"));
    const out: string[] = [];
    for (const page of pages) {
        for (const { target, line } of links(read(page))) {
            if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
            const hash = target.indexOf("#");
            const file = hash < 0 ? target : target.slice(0, hash);
            const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
            const where = `${page}:${line}: ${target}`;
            if (file.startsWith("/")) {
                out.push(`${where}: an absolute path; write it relative to ${page}`);
                continue;
            }
            const resolved = file === "" ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURIComponent(file)));
            const rel = resolved.replace(/\/$/, "");
            if (rel === ".." || rel.startsWith("../")) {
                out.push(`${where}: leaves the repository`);
                continue;
            }
            if (!files.has(rel) && !isDir(rel)) {
                out.push(`${where}: ${rel} does not exist`);
                continue;
            }
            if (anchor === undefined || anchor === "") continue;
            if (rel.endsWith(".md")) {
                if (!anchors(read(rel)).has(anchor)) out.push(`${where}: ${rel} has no heading with the anchor #${anchor}`);
            } else if (!LINE_ANCHOR.test(anchor)) out.push(`${where}: #${anchor} is not a line anchor of ${rel}`);
        }
    }
    return out;
}

describe("links in README.md and docs/", () => {
    it("every relative link resolves to a file of the working tree, and every #anchor to a heading of its page", () => {
        expect(brokenLinks(docFiles(), workingTreeFiles(), readDoc)).to.deep.equal([]);
    });

    it("reads README.md and every page under docs/, and README.md links every page", () => {
        const pages = docFiles();
        expect(pages).to.include("README.md");
        const docs = pages.filter((p) => p.startsWith("docs/"));
        expect(docs.length).to.be.at.least(8);
        const fromReadme = new Set(links(readDoc("README.md")).map((l) => l.target.split("#")[0]));
        expect(docs.filter((p) => !fromReadme.has(p))).to.deep.equal([]);
    });

    it("checks a link's anchor against the target page's headings", () => {
        const tree = ["README.md", "docs/configuration.md"];
        const pages: Record<string, string> = {
            "README.md": "[ok](docs/configuration.md#cluster) [bad](docs/configuration.md#clusters) [other](docs/missing.md)\n",
            "docs/configuration.md": "# Configuration\n\n## cluster\n",
        };
        expect(brokenLinks(["README.md"], tree, (f) => pages[f])).to.deep.equal([
            "README.md:1: docs/configuration.md#clusters: docs/configuration.md has no heading with the anchor #clusters",
            "README.md:1: docs/missing.md: docs/missing.md does not exist",
        ]);
    });

    it("finds missing files, missing anchors, paths outside the repository, and skips code and external links", () => {
        const pages: Record<string, string> = {
            "README.md": [
                "# Title",
                "See [a](docs/a.md#second-part), [b](docs/b.md), [dir](lib/) and [self](#title).",
                "[gone](docs/a.md#third) [up](../outside.md) [abs](/docs/a.md) [web](https://example.com/x.md)",
                "`[code](docs/nowhere.md)` and [line](lib/x.ts#L3) [nonline](lib/x.ts#top)",
                "```",
                "[fenced](docs/nowhere.md)",
                "```",
                "[ref]: docs/c.md",
            ].join("\n"),
            "docs/a.md": "# First\n\n## Second part\n\n```\n# third\n```\n",
        };
        const tree = ["README.md", "docs/a.md", "lib/x.ts"];
        expect(brokenLinks(["README.md"], tree, (f) => pages[f])).to.deep.equal([
            "README.md:2: docs/b.md: docs/b.md does not exist",
            "README.md:3: docs/a.md#third: docs/a.md has no heading with the anchor #third",
            "README.md:3: ../outside.md: leaves the repository",
            "README.md:3: /docs/a.md: an absolute path; write it relative to README.md",
            "README.md:4: lib/x.ts#top: #top is not a line anchor of lib/x.ts",
            "README.md:8: docs/c.md: docs/c.md does not exist",
        ]);
    });
});

describe("GitHub heading anchors", () => {
    // Expected slugs as GitHub renders these headings (github-slugger's rules).
    const cases: [string, string][] = [
        ["Against a real cluster", "against-a-real-cluster"],
        ["`cluster` — the Talos facts the platform depends on", "cluster--the-talos-facts-the-platform-depends-on"],
        ["Charts: `cilium`, `coredns`, `certManager`", "charts-cilium-coredns-certmanager"],
        ["What's new?", "whats-new"],
        ["snake_case and dot.ted", "snake_case-and-dotted"],
        ["Readiness gates and the doctor", "readiness-gates-and-the-doctor"],
        ["network → DNS", "network--dns"],
        ["Ünïcode Ž", "ünïcode-ž"],
        ["[A link](x.md) inside", "a-link-inside"],
        ["**Bold** text", "bold-text"],
    ];
    for (const [heading, expected] of cases) it(`'${heading}' → #${expected}`, () => expect(slug(heading)).to.equal(expected));

    it("numbers repeated headings and ignores headings inside code fences", () => {
        const a = anchors("# Setup\n\n## Setup\n\n```sh\n# Setup\n```\n\n### Setup #\n");
        expect([...a]).to.deep.equal(["setup", "setup-1", "setup-2"]);
    });
});
