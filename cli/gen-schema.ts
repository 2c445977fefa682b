import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { generatedFiles } from "../lib/config/reference";

const USAGE = `usage: npm run gen:schema [-- --check]

Writes schema/stack.schema.json (the JSON Schema of Pulumi.<stack>.yaml) and
docs/configuration.md (the configuration reference) from the config schema in
lib/config/ and the page's hand-written parts in schema/configuration.template.md.

  --check   write nothing; exit 1 naming each file that is not current

Exit status: 0 ok; 1 a file is not current (--check); 2 usage error.`;

/** The repository: the nearest directory above this file with a package.json (it runs from cli/ or dist/cli/). */
function repositoryRoot(): string {
    for (let dir = __dirname; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "package.json"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
    }
}

export function main(argv: string[], out: (text: string) => void = (t) => process.stdout.write(t), root = repositoryRoot()): number {
    let check: boolean;
    try {
        const { values } = parseArgs({
            args: argv,
            options: { check: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
        });
        if (values.help) {
            out(USAGE + "\n");
            return 0;
        }
        check = values.check!;
    } catch (e) {
        out(`${(e as Error).message}\n${USAGE}\n`);
        return 2;
    }
    let stale = 0;
    for (const [file, text] of Object.entries(generatedFiles(root))) {
        const target = path.join(root, file);
        const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : undefined;
        if (current === text) continue;
        if (check) {
            stale++;
            out(`${file} is not current: run npm run gen:schema\n`);
        } else {
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, text);
            out(`wrote ${file}\n`);
        }
    }
    return stale ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
