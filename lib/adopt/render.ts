import type { AdoptReport } from "./index";
import type { ValueDiff } from "./values";

// The report for people. Live Helm values appear only as differences, each
// leaf that may be a credential as its path and [secret].

const MARK = { blocking: "✗", warning: "!", info: "·" };
const SHOWN_DIFFS = 8;

function show(v: unknown): string {
    return v === undefined ? "(unset)" : typeof v === "string" ? v : JSON.stringify(v);
}

function diffLine(d: ValueDiff): string {
    const change = d.secret ? "[secret] differs" : `${show(d.live)} → ${show(d.planned)}`;
    return `    ${d.path}: ${change}${d.note ? `   ${d.unsafe ? "UNSAFE: " : ""}${d.note}` : ""}`;
}

export function renderReport(r: AdoptReport): string {
    const c = r.cluster;
    const out: string[] = [];
    out.push(`talos-platform adopt · ${r.source} · context ${c.context} (${c.server})`);
    const kubelets = [...new Set(c.nodes.map((n) => n.kubeletVersion))].join(", ");
    out.push(
        `cluster: Kubernetes ${c.kubernetesVersion}, ${c.nodes.length} node(s)${kubelets ? ` (kubelet ${kubelets})` : ""}${c.identity ? `, kube-system uid ${c.identity}` : ""}`,
    );
    if (c.releases.length)
        out.push(`Helm releases: ${c.releases.map((x) => `${x.namespace}/${x.name} (${x.chart} ${x.version}, ${x.status})`).join("; ")}`);
    if (c.cilium)
        out.push(
            `Cilium: ${Object.entries(c.cilium.settings)
                .map(([k, v]) => `${k}=${v}`)
                .join(", ")}`,
        );
    out.push(
        `kube-proxy: ${c.kubeProxy ? "runs" : "not running"}; CoreDNS: ${c.coredns ? (c.coredns.helmRelease ? `Helm release ${c.coredns.helmRelease}` : "Talos' own") : "none found"}`,
    );
    if (c.flux.length)
        out.push(`Flux objects: ${c.flux.map((f) => `${f.kind} ${f.namespace ? `${f.namespace}/` : ""}${f.name}`).join("; ")}`);

    const n = r.counts;
    out.push(
        "",
        `plan against cluster: ${n.import} to import, ${n.managed} already managed, ${n.conflict} in conflict, ${n.create} to create`,
    );
    for (const m of r.matches.filter((x) => x.status !== "create"))
        out.push(`  ${m.status.padEnd(8)}  ${m.target}  (${m.resource})${m.reasons.length ? `: ${m.reasons.join("; ")}` : ""}`);

    const withDiffs = r.values.filter((v) => v.diffs.length);
    if (withDiffs.length) {
        out.push("", "values, live → planned:");
        for (const v of withDiffs) {
            out.push(`  ${v.target}:`);
            // What changes behaviour, and every credential that changes (its path only), always show.
            const notable = v.diffs.filter((d) => d.note || d.secret);
            const rest = v.diffs.filter((d) => !d.note && !d.secret);
            const shown = [...notable, ...rest.slice(0, Math.max(0, SHOWN_DIFFS - notable.length))];
            for (const d of shown) out.push(diffLine(d));
            if (v.diffs.length > shown.length) out.push(`    … and ${v.diffs.length - shown.length} more (--format json lists them)`);
        }
    }

    const count = (s: keyof typeof MARK) => r.findings.filter((f) => f.severity === s).length;
    out.push("", `findings: ${count("blocking")} blocking, ${count("warning")} warning(s), ${count("info")} for information`);
    for (const f of r.findings) {
        out.push(`${MARK[f.severity]} [${f.rule}] ${f.subject}`);
        for (const e of f.evidence) out.push(`    evidence: ${e}`);
        out.push(`    consequence: ${f.consequence}`);
        f.fix.forEach((step, i) => out.push(`    ${f.fix.length > 1 ? `${i + 1}. ` : "fix: "}${step}`));
    }
    if (r.notes.length) {
        out.push("", "not read:");
        for (const note of r.notes) out.push(`  ${note}`);
    }

    out.push("");
    if (r.blocking) {
        out.push(`${r.blocking} finding(s) block the adoption: fix them first (each says how), then run npm run adopt again.`);
        if (r.importFilePath)
            out.push(
                `(${r.importFilePath} was written for what can be imported already; do not run pulumi import before the blocking findings are fixed.)`,
            );
    } else {
        if (r.importFilePath) out.push(`wrote ${r.importFilePath}: ${r.importFile?.resources.length ?? 0} entries for pulumi import.`);
        else if (!r.importFile) out.push("nothing to import.");
        out.push("next:");
        r.commands.forEach((s, i) => out.push(`  ${i + 1}. ${s.command}`, `       ${s.why}`));
    }
    return out.join("\n") + "\n";
}
