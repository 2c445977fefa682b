import type { PlatformConfig } from "../config";
import { RenderedObject, renderedObjects } from "../charts/rendered";
import { RISK_LEVELS, RiskLevel, RiskRule, rulesFor, versionDefault } from "../charts/rules";
import { isPlainObject } from "../merge";
import { PHASES } from "../phases";
import { configPath, error, Problem } from "../problems";
import { ingressNginxValues } from "../values/ingress-nginx";
import { KIND, readValue } from "../values/read";
import { Release, releases } from "./crd-order";
import type { Check } from "./types";

// ingress-nginx admits an Ingress only if its annotations pass the
// controller's own rules (internal/ingress/controller/controller.go,
// CheckIngress): no *-snippet annotation unless allow-snippet-annotations,
// and no annotation riskier than annotations-risk-level. Ingresses that the
// platform's charts render from values (Hubble UI, the Flux web UI,
// extraObjects) get the same verdict here as the admission webhook, or the
// controller, would give.

const PREFIX = "nginx.ingress.kubernetes.io/";
const CLASS_ANNOTATION = "kubernetes.io/ingress.class";

/** The controller's StringRiskToRisk: an unknown word is Low, the strictest. */
function riskLevel(word: string): RiskLevel {
    return RISK_LEVELS.find((r) => r.toLowerCase() === word.toLowerCase()) ?? "Low";
}

interface Admission {
    className: string;
    isDefault: boolean;
    allowSnippets: boolean;
    /** Where allowSnippets comes from, for the message. */
    snippetsFrom: string;
    /** Undefined where the version grades no annotation risk. */
    maxRisk?: RiskLevel;
    riskFrom: string;
    risks: RiskRule["risks"];
}

/** What the pinned ingress-nginx admits, from its merged values and the version's defaults. */
function admission(config: PlatformConfig): Admission {
    const ingress = config.ingressNginx;
    const v = ingressNginxValues(ingress, config.cilium.loadBalancerPools);
    const version = ingress.version;
    const cm = readValue(v, "controller.config", KIND.map) ?? {};
    const chartValue = readValue(v, "controller.allowSnippetAnnotations", KIND.switch);
    const cmSnippets = typeof cm["allow-snippet-annotations"] === "string" ? cm["allow-snippet-annotations"] === "true" : undefined;
    const byDefault = versionDefault("ingress-nginx", version, "controller.allowSnippetAnnotations");
    const allowSnippets = chartValue ?? cmSnippets ?? byDefault === true;
    const snippetsFrom =
        chartValue !== undefined
            ? "ingressNginx.values.controller.allowSnippetAnnotations"
            : cmSnippets !== undefined
              ? "ingressNginx.values.controller.config.allow-snippet-annotations"
              : `the default of chart ${version}`;
    const levelDefault = versionDefault("ingress-nginx", version, "annotations-risk-level");
    const levelSet = typeof cm["annotations-risk-level"] === "string" ? cm["annotations-risk-level"] : undefined;
    const graded = levelDefault !== null && levelDefault !== undefined;
    const risks = Object.assign({}, ...rulesFor("ingress-nginx", version).flatMap((r) => (r.kind === "risk" ? [r.risks] : [])));
    return {
        className: readValue(v, "controller.ingressClassResource.name", KIND.string) ?? "nginx",
        isDefault: readValue(v, "controller.ingressClassResource.default", KIND.switch) ?? false,
        allowSnippets,
        snippetsFrom,
        maxRisk: graded ? riskLevel(levelSet ?? String(levelDefault)) : undefined,
        riskFrom:
            levelSet !== undefined ? "ingressNginx.values.controller.config.annotations-risk-level" : `the default of chart ${version}`,
        risks,
    };
}

/** Does this controller serve the Ingress? Its class by name or by the legacy annotation, or none when the class is the default. */
function served(o: RenderedObject, a: Admission): boolean {
    const byName = typeof o.spec.ingressClassName === "string" ? o.spec.ingressClassName : undefined;
    const byAnnotation =
        typeof o.metadata.annotations[CLASS_ANNOTATION] === "string" ? o.metadata.annotations[CLASS_ANNOTATION] : undefined;
    const cls = byName ?? byAnnotation;
    return cls === undefined ? a.isDefault : cls === a.className;
}

function ingressProblems(r: Release, o: RenderedObject, a: Admission): Problem[] {
    const problems: Problem[] = [];
    // The admission webhook answers from the ingress phase on; an Ingress created before is admitted, then skipped by the controller.
    const effect =
        PHASES.indexOf(r.phase) > PHASES.indexOf("ingress")
            ? `ingress-nginx's admission webhook refuses the Ingress, and the ${r.phase}-phase release fails`
            : "ingress-nginx skips the Ingress when it syncs, and nothing is served for it";
    const keyOf = (name: string) => configPath([r.section, "values", ...o.annotationsAt, ...(o.fromString ? [] : [name])]);
    for (const [name, value] of Object.entries(o.metadata.annotations)) {
        if (name.endsWith("-snippet") && !a.allowSnippets) {
            problems.push(
                error(
                    keyOf(name),
                    `is a snippet annotation on the Ingress of ${r.chart}'s ${o.source}; ${effect}: "${name} annotation cannot be used. Snippet directives are disabled by the Ingress administrator" (snippets are off by ${a.snippetsFrom})`,
                    `remove it; or, trusting everyone who can write an Ingress with nginx.conf, set ingressNginx.values.controller.allowSnippetAnnotations: true${a.maxRisk && a.maxRisk !== "Critical" ? " and ingressNginx.values.controller.config.annotations-risk-level: Critical" : ""}`,
                    isPlainObject(value) ? undefined : value,
                ),
            );
            continue;
        }
        const risk = name.startsWith(PREFIX) ? a.risks[name.slice(PREFIX.length)] : undefined;
        if (!a.maxRisk || !risk || RISK_LEVELS.indexOf(risk) <= RISK_LEVELS.indexOf(a.maxRisk)) continue;
        problems.push(
            error(
                keyOf(name),
                `is an annotation of risk ${risk} on the Ingress of ${r.chart}'s ${o.source}, above annotations-risk-level ${a.maxRisk} (${a.riskFrom}); ${effect}: "annotation ${name} is too risky for environment"`,
                `remove it, or set ingressNginx.values.controller.config.annotations-risk-level to ${risk}`,
                value,
            ),
        );
    }
    return problems;
}

function ingressAnnotations(config: PlatformConfig): Problem[] {
    const a = admission(config);
    return releases(config).flatMap((r) =>
        renderedObjects(r)
            .objects.filter((o) => o.kind === "Ingress" && o.apiVersion.startsWith("networking.k8s.io/") && served(o, a))
            .flatMap((o) => ingressProblems(r, o, a)),
    );
}

export const ingressAnnotationChecks: Check[] = [{ name: "ingress-annotation-admission", run: ingressAnnotations }];
