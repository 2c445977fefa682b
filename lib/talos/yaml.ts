import { Document, LineCounter, parseAllDocuments } from "yaml";

/**
 * The YAML documents of `text`, or `<shown>:<line>:<col>: …` lines. The
 * parser's own messages quote the offending line, which may hold a key or
 * a token, so only its position and the kind of error are kept.
 */
export function parseYamlDocuments(text: string, shown: string): { docs: unknown[]; problems: string[] } {
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false }) as Document[] | { errors: never[] };
    const all = Array.isArray(docs) ? docs : [];
    const problems = all.flatMap((d) =>
        d.errors.map((e) => {
            const { line, col } = lines.linePos(e.pos[0]);
            return `${shown}:${line}:${col}: not valid YAML (${e.code.toLowerCase().replace(/_/g, " ")})`;
        }),
    );
    if (problems.length) return { docs: [], problems };
    return { docs: all.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown).filter((d) => d !== null && d !== undefined), problems };
}
