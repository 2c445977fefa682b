import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { main as adoptMain } from "../cli/adopt";
import { main as doctorMain } from "../cli/doctor";
import { main as gateMain } from "../cli/gate";
import { main as planMain } from "../cli/plan";
import * as exit from "../lib/exit";
import { exitStatus } from "../lib/gates/run";
import { planDevWith, readDoc, section } from "./docs";
import { ROOT } from "./helpers";

// The README's exit-code table is a contract for scripts and CI. It is read
// here and compared with the statuses the code can return, found in its
// source, with each command's --help, and with what the commands do.

/** The constants an exit status may be named by. */
const CONSTANTS: Record<string, number> = { INTERNAL_ERROR: exit.INTERNAL_ERROR };

/** Where each command's exit statuses come from: a file and the functions in it that return one. */
const SOURCES = {
    plan: [{ file: "cli/plan.ts", functions: ["main"] }],
    gates: [
        { file: "cli/gate.ts", functions: ["main"] },
        { file: "cli/doctor.ts", functions: ["main"] },
        { file: "cli/adopt.ts", functions: ["main"] },
        { file: "lib/gates/checker.ts", functions: ["errorExit", "runCli"] },
        { file: "lib/gates/run.ts", functions: ["exitStatus"] },
        { file: "lib/gates/doctor.ts", functions: ["doctorExit"] },
    ],
};

/** The numbers an expression can evaluate to, through ?:, || and parentheses; calls are the callee's business. */
function literals(e: ts.Expression, where: string): number[] {
    if (ts.isParenthesizedExpression(e)) return literals(e.expression, where);
    if (ts.isNumericLiteral(e)) return [Number(e.text)];
    if (ts.isConditionalExpression(e)) return [...literals(e.whenTrue, where), ...literals(e.whenFalse, where)];
    if (ts.isCallExpression(e)) return [];
    if (ts.isIdentifier(e) && e.text in CONSTANTS) return [CONSTANTS[e.text]];
    throw new Error(`${where}: cannot tell which exit status '${e.getText()}' is; name it with a constant of lib/exit.ts`);
}

/**
 * Every exit status a file's named functions return, and every status it
 * exits with or sets (exit(n), process.exit(n), process.exitCode = n).
 */
export function exitCodesIn(file: string, functions: string[], text = fs.readFileSync(path.join(ROOT, file), "utf8")): Set<number> {
    const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const out = new Set<number>();
    const where = (n: ts.Node) => `${file}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const add = (e: ts.Expression, n: ts.Node) => literals(e, where(n)).forEach((c) => out.add(c));
    // A forwarded status (exit(code), process.exitCode = code) was counted where it was returned.
    const known = (e: ts.Expression) => ts.isNumericLiteral(e) || (ts.isIdentifier(e) && e.text in CONSTANTS);

    function returnsOf(body: ts.Node): void {
        body.forEachChild(function visit(n) {
            if (ts.isFunctionLike(n)) return; // a nested function's returns are not the command's
            if (ts.isReturnStatement(n) && n.expression) add(n.expression, n);
            n.forEachChild(visit);
        });
    }

    src.forEachChild(function visit(n): void {
        if (ts.isFunctionDeclaration(n) && n.name && functions.includes(n.name.text) && n.body) returnsOf(n.body);
        if (ts.isCallExpression(n) && /^(process\.)?exit$/.test(n.expression.getText()) && n.arguments[0] && known(n.arguments[0]))
            add(n.arguments[0], n);
        if (
            ts.isBinaryExpression(n) &&
            n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
            n.left.getText() === "process.exitCode" &&
            known(n.right)
        )
            add(n.right, n);
        n.forEachChild(visit);
    });
    return out;
}

function codesOf(command: keyof typeof SOURCES): number[] {
    const all = new Set<number>();
    for (const s of SOURCES[command]) for (const c of exitCodesIn(s.file, s.functions)) all.add(c);
    return [...all].sort((a, b) => a - b);
}

interface Row {
    code: number;
    plan: string;
    gates: string;
}

/** The README's table: code, then what it means for the plan, then for the gates and the doctor. */
function readmeTable(): Row[] {
    return section(readDoc("README.md"), "Exit codes")
        .split("\n")
        .filter((l) => /^\|\s*\d+\s*\|/.test(l))
        .map((l) => {
            const [code, plan, gates] = l
                .replace(/^\||\|$/g, "")
                .split(/(?<!\\)\|/)
                .map((c) => c.trim());
            return { code: Number(code), plan, gates };
        });
}

const rowsFor = (column: "plan" | "gates") =>
    readmeTable()
        .filter((r) => r[column] !== "")
        .map((r) => r.code);

/** The codes an "Exit status: 0 …, 1 …" paragraph of a --help text lists. */
function helpCodes(help: string): number[] {
    const paragraph = help.slice(help.indexOf("Exit status:"));
    expect(paragraph, help).to.not.equal("");
    return [...paragraph.matchAll(/(?:^|[:;,])\s+(\d+)\s/g)].map((m) => Number(m[1]));
}

async function helpOf(run: (argv: string[], io: never) => Promise<number>, argv: string[]): Promise<string> {
    let out = "";
    const io = { out: (t: string) => (out += t), err: (t: string) => (out += t), cwd: ROOT, signal: new AbortController().signal };
    expect(await run(argv, io as never)).to.equal(0);
    return out;
}

describe("README exit codes", () => {
    it("the table has one row per code, each code once", () => {
        const codes = readmeTable().map((r) => r.code);
        expect(codes).to.have.length.greaterThan(3);
        expect(new Set(codes).size).to.equal(codes.length);
    });

    it("lists for the plan exactly the statuses cli/plan.ts can end with", () => {
        expect(rowsFor("plan")).to.deep.equal(codesOf("plan"));
    });

    it("lists for the gates and the doctor exactly the statuses their code can end with", () => {
        expect(rowsFor("gates")).to.deep.equal(codesOf("gates"));
    });

    it("agrees with each command's --help", async () => {
        expect(helpCodes(await helpOf(planMain as never, ["--help"]))).to.deep.equal(rowsFor("plan"));
        expect(helpCodes(await helpOf(gateMain as never, ["--help"]))).to.deep.equal(rowsFor("gates"));
        expect(helpCodes(await helpOf(gateMain as never, ["dns", "--help"]))).to.deep.equal(rowsFor("gates"));
        expect(helpCodes(await helpOf(doctorMain as never, ["--help"]))).to.deep.equal(rowsFor("gates"));
        expect(helpCodes(await helpOf(adoptMain as never, ["--help"]))).to.deep.equal(rowsFor("gates"));
    });

    it("each plan row says what the plan does for that code", async () => {
        const row = (code: number) => readmeTable().find((r) => r.code === code)!.plan;
        const io = { out: () => {}, err: () => {}, cwd: ROOT };
        expect((await planDevWith("config: {}")).code).to.equal(0);
        expect(row(0)).to.match(/ok/);
        expect((await planDevWith("config:\n  talos-platform:cilium:\n    values:\n      kubeProxyReplacement: false\n")).code).to.equal(1);
        expect(row(1)).to.match(/config errors/);
        expect(await planMain(["--no-such-option"], io)).to.equal(2);
        expect(await planMain(["--stack", "no-such-stack"], io)).to.equal(2);
        expect(row(2))
            .to.match(/usage errors/)
            .and.match(/unknown option/)
            .and.match(/does not exist/);
        const bug = () => Promise.reject(new TypeError("a bug"));
        expect(await planMain(["--format", "json"], io, bug)).to.equal(exit.INTERNAL_ERROR);
        expect(row(exit.INTERNAL_ERROR)).to.match(/internal error: a bug in talos-platform/);
    });

    it("each gate row says what a gate's result means for that code", () => {
        const row = (code: number) => readmeTable().find((r) => r.code === code)!.gates;
        expect(exitStatus({ ok: true })).to.equal(0);
        expect(row(0)).to.match(/passed/);
        expect(exitStatus({ ok: false })).to.equal(1);
        expect(exitStatus({ ok: false, unreachable: { kind: "unanswered", server: "https://x:6443" } })).to.equal(1);
        expect(row(1)).to.match(/broken/);
        expect(exitStatus({ ok: false, unreachable: { kind: "network", server: "https://x:6443" } })).to.equal(2);
        expect(exitStatus({ ok: false, unreachable: { kind: "tls", server: "https://x:6443" } })).to.equal(2);
        expect(row(2))
            .to.match(/cannot reach the API server/)
            .and.match(/kubeconfig/);
        expect(exitStatus({ ok: false, interrupted: true })).to.equal(130);
        expect(row(130)).to.match(/interrupted/);
        expect(row(exit.INTERNAL_ERROR))
            .to.match(/internal error/)
            .and.contain(exit.DEBUG_ENV);
    });

    it("the source scan finds returned, conditional, constant and exited statuses, and refuses a status it cannot read", () => {
        const text = [
            "function main(x) { if (x) return 4; const f = () => { return 9; }; return x ? 0 : INTERNAL_ERROR; }",
            "function other() { return 7; }",
            "function run() { exit(5); process.exitCode = 6; process.exitCode = code; }",
        ].join("\n");
        expect([...exitCodesIn("x.ts", ["main"], text)].sort()).to.deep.equal([0, exit.INTERNAL_ERROR, 4, 5, 6].sort());
        expect(() => exitCodesIn("y.ts", ["main"], "function main(c) { return c.status; }")).to.throw(
            /cannot tell which exit status 'c.status'/,
        );
    });
});
