import { expect } from "chai";
import { POLICIES } from "../policies/rules";
import { DEFAULT_ENFORCEMENT } from "../policies/kit";
import { readDoc, section } from "./docs";

// docs/policies.md lists every policy of the pack; the rows are what the
// pack itself says, so a new, renamed or re-described policy fails here.

const PAGE = "docs/policies.md";

/** The table rows the pack's own names, levels, descriptions and config keys make. */
export function policyRows(): string[] {
    return POLICIES.map((p) => {
        const config = Object.keys(p.configSchema?.properties ?? {}).map((k) => `\`${k}\``);
        return `| \`${p.name}\` | ${p.enforcementLevel ?? DEFAULT_ENFORCEMENT} | ${p.description} | ${config.join(", ")} |`;
    });
}

/** The page's table rows under "Every policy", header and separator left out. */
function pageRows(): string[] {
    return section(readDoc(PAGE), "Every policy")
        .split("\n")
        .filter((l) => l.startsWith("| `"));
}

describe(PAGE, () => {
    it("lists every policy of the pack, in its order, with its enforcement, description and config", () => {
        const rows = policyRows();
        expect(pageRows(), `the table for ${PAGE}:\n${rows.join("\n")}\n`).to.deep.equal(rows);
    });

    it("the rows name each policy once, and the two that take stack facts name them", () => {
        const rows = policyRows();
        expect(new Set(rows.map((r) => r.split(" | ")[0])).size).to.equal(POLICIES.length);
        expect(rows.find((r) => r.startsWith("| `flux-instance-cluster-domain`"))).to.match(/ \| `dnsDomain` \|$/);
        expect(rows.find((r) => r.startsWith("| `flux-single-owner`"))).to.match(
            / \| `coreDnsDisabled`, `ingressNginx`, `gatewayApiCrds` \|$/,
        );
        expect(rows.find((r) => r.startsWith("| `ingress-nginx-retired`"))).to.contain("| advisory |");
    });
});
