import pulumi from "@pulumi/eslint-plugin";
import ts from "typescript";
import tseslint from "typescript-eslint";

/**
 * TypeScript's own errors for each linted file (`tsc --noEmit`'s, the same
 * compiler options), taken from the program typescript-eslint already built
 * for the type-aware rules. `npm test` type-checks here instead of in a tsc
 * process of its own, which parsed and bound the same 2,500 files, most of
 * them @pulumi/kubernetes' declarations, a second time: about 12 s of CPU.
 */
const typeCheck = {
    meta: { type: "problem", docs: { description: "TypeScript's compile errors, as tsc --noEmit reports them" }, schema: [] },
    create(context) {
        const program = context.sourceCode.parserServices?.program;
        if (!program) return {};
        return {
            "Program:exit"(node) {
                const file = program.getSourceFile(context.physicalFilename);
                const found = file ? [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)] : [];
                // Errors of the options or of no file are the program's: reported once, on the first file linted.
                if (!reportedGlobal.has(program)) {
                    reportedGlobal.add(program);
                    found.push(...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics());
                }
                for (const d of found) {
                    if (d.category !== ts.DiagnosticCategory.Error) continue;
                    const message = `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
                    if (d.file !== file || d.start === undefined) {
                        context.report({ node, message: d.file ? `${d.file.fileName}: ${message}` : message });
                        continue;
                    }
                    const at = (pos) => {
                        const { line, character } = file.getLineAndCharacterOfPosition(pos);
                        return { line: line + 1, column: character };
                    };
                    context.report({ loc: { start: at(d.start), end: at(d.start + (d.length ?? 0)) }, message });
                }
            },
        };
    },
};
const reportedGlobal = new WeakSet();
export const localPlugin = { rules: { "type-check": typeCheck } };

export default tseslint.config(
    { ignores: ["dist/**", "node_modules/**", "eslint.config.mjs", "lib/charts/data/**"] },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        plugins: { "@pulumi": pulumi, local: localPlugin },
        rules: {
            "local/type-check": "error",
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-misused-promises": "error",
            "@typescript-eslint/await-thenable": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
    {
        // cli/run.cjs: plain CommonJS, because it runs before anything is compiled.
        files: ["**/*.cjs"],
        languageOptions: { sourceType: "commonjs" },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        // Chai's property assertions (expect(x).to.be.true) are expressions by design.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-unused-expressions": "off" },
    },
);
