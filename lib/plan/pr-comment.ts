// The pull-request comment around a compared plan: a hidden marker that the
// workflow finds the comment by (one comment per stack, updated in place),
// and a footer saying which commits were compared.

/** GitHub refuses a comment body over this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

const STACK = /^[A-Za-z0-9_.-]+$/;

/** The hidden first line of the comment for `stack`. */
export function commentMarker(stack: string): string {
    if (!STACK.test(stack)) throw new Error(`'${stack}' is not a stack name`);
    return `<!-- talos-platform-plan-preview stack=${stack} -->`;
}

/** The marker a comment body starts with, if it is one of ours. */
export function markerOf(body: string): string | undefined {
    const first = body.split("\n", 1)[0];
    return /^<!-- talos-platform-plan-preview stack=[A-Za-z0-9_.-]+ -->$/.test(first) ? first : undefined;
}

export interface Compared {
    stack: string;
    /** The head plan's markdown (with --base when there was a base plan). */
    markdown: string;
    head: { sha: string; dirty: boolean };
    /** The base commit and how it was chosen; `plan` says why there is no base plan, when there is none. */
    base: { sha: string; ref: string; missing?: string };
}

const short = (sha: string) => sha.slice(0, 12);

export function composeComment(c: Compared): string {
    const head = `\`${short(c.head.sha)}\`${c.head.dirty ? " with uncommitted changes" : ""}`;
    const base = `\`${short(c.base.sha)}\` (the merge base with \`${c.base.ref}\`)`;
    const missing = c.base.missing
        ? [`> The base commit has no plan to compare with: ${c.base.missing}. This is the whole plan of the head.`, ""]
        : [];
    const footer = [
        "",
        `<sub>Offline plan of stack \`${c.stack}\`: head ${head} against base ${base}, each planned with its own code. ` +
            "No cluster and no secrets were used. Made by `npm run pr-comment`.</sub>",
    ];
    const body = [commentMarker(c.stack), ...missing, c.markdown.trimEnd(), ...footer].join("\n") + "\n";
    if (body.length > GITHUB_COMMENT_LIMIT)
        throw new Error(`the comment has ${body.length} characters, over GitHub's ${GITHUB_COMMENT_LIMIT}`);
    return body;
}
