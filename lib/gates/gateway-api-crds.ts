import type * as k8s from "@kubernetes/client-node";
import { versionAtLeast } from "../config/cilium";
import { BUNDLE_VERSION_ANNOTATION, CHANNEL_ANNOTATION, INSTALLED_BY } from "../values/gateway-api";
import { crdState } from "./crds";
import { blockedAfter } from "./diagnosis";
import { readOptional } from "./kube";
import type { GatewayApiCrdsOptions } from "./options";
import type { Step, StepResult } from "./run";

// Before the network phase creates the Gateway API CRDs: whether they are
// already on the cluster. Creating one that exists fails with AlreadyExists,
// which a preview does not show; and a CRD that another installer (Talos
// extraManifests, kubectl, a chart) keeps applying would be fought over, the
// last apply deciding the schema every Gateway and route is stored in.
// The component runs this once, with the CRDs' creation: afterwards they
// are in the stack's state, and their presence is no collision. With
// `gatewayApi.crds: existing`, another owner installs them, and this waits
// until the CRDs Cilium needs are there.

/**
 * The Kubernetes provider's switch that updates an object that already
 * exists instead of failing with AlreadyExists. Commands inherit `pulumi
 * up`'s environment, so the checker sees what the provider will do.
 */
export const UPSERT_ENV = "PULUMI_K8S_UPSERT_EXISTING_OBJECTS";

const BLOCKS = () => blockedAfter("network", ["Cilium's Gateway API controller", "the Gateway (ingress)"]);

export function upsertRequested(env: NodeJS.ProcessEnv = process.env): boolean {
    return env[UPSERT_ENV] === "true";
}

/** One line about a CRD already on the cluster: its bundle, channel and who wrote it. */
export function crdOwnerLine(crd: k8s.V1CustomResourceDefinition): string {
    const a = crd.metadata?.annotations ?? {};
    const managers = [...new Set((crd.metadata?.managedFields ?? []).map((f) => f.manager).filter((m): m is string => !!m))];
    const labels = crd.metadata?.labels ?? {};
    const by = labels[INSTALLED_BY.key] ? `, ${INSTALLED_BY.key}=${labels[INSTALLED_BY.key]}` : "";
    return (
        `CustomResourceDefinition ${crd.metadata?.name}: bundle-version ${a[BUNDLE_VERSION_ANNOTATION] ?? "(none)"}, channel ${a[CHANNEL_ANNOTATION] ?? "(none)"}${by}` +
        (managers.length ? `, written by ${managers.join(", ")}` : "")
    );
}

function ownershipStep(o: GatewayApiCrdsOptions): Step {
    return {
        name: `no Gateway API CRD to collide with before installing them (${o.bundleVersion}, standard channel)`,
        async check({ kube }): Promise<StepResult> {
            const live = (await Promise.all(o.crds.map((name) => readOptional(kube.ext.readCustomResourceDefinition({ name }))))).filter(
                (c): c is k8s.V1CustomResourceDefinition => c !== undefined,
            );
            if (!live.length) return { ok: true, detail: "none installed yet" };
            const ours = (c: k8s.V1CustomResourceDefinition) => c.metadata?.labels?.[INSTALLED_BY.key] === INSTALLED_BY.value;
            const foreign = live.filter((c) => !ours(c));
            const label = `${INSTALLED_BY.key}=${INSTALLED_BY.value}`;
            if (foreign.length) {
                const names = foreign.map((c) => c.metadata!.name!);
                return {
                    ok: false,
                    final: true,
                    waiting: `${names.length} Gateway API CRDs belong to another installer`,
                    diagnosis: {
                        link: "Gateway API CRDs already installed by another installer",
                        evidence: foreign.map(crdOwnerLine),
                        cause: "this program would create them and fail with AlreadyExists (which a preview does not show), and two installers of one CRD overwrite each other: the last to apply decides the schema every Gateway and route is stored in",
                        fix:
                            "keep their installer: set talos-platform:gateway.gatewayApi.crds to existing (the network phase then waits for the CRDs Cilium needs); " +
                            `or hand them over: remove them from their installer (e.g. Talos cluster.extraManifests), mark them as this program's with \`kubectl label crd ${names.join(" ")} ${label}\`, and run \`${UPSERT_ENV}=true pulumi up\` once, which updates them in place`,
                        blocks: BLOCKS(),
                    },
                };
            }
            const newer = live.filter((c) => {
                const v = c.metadata?.annotations?.[BUNDLE_VERSION_ANNOTATION];
                return v !== undefined && v !== o.bundleVersion && versionAtLeast(v, o.bundleVersion);
            });
            if (newer.length) {
                return {
                    ok: false,
                    final: true,
                    waiting: `the installed Gateway API CRDs are newer than ${o.bundleVersion}`,
                    diagnosis: {
                        link: "Gateway API CRD version",
                        evidence: newer.map(crdOwnerLine),
                        cause: `installing ${o.bundleVersion} over them would downgrade the CRDs: fields of the newer release vanish from the schema every Gateway and route is stored in`,
                        fix: "set talos-platform:gateway.gatewayApi.version to the installed release, if this program carries it, or keep them with gateway.gatewayApi.crds: existing",
                        blocks: BLOCKS(),
                    },
                };
            }
            if (upsertRequested())
                return {
                    ok: true,
                    detail: `${live.length} labelled ${label}: ${UPSERT_ENV}=true, so the provider takes them over in place`,
                };
            return {
                ok: false,
                final: true,
                waiting: `${live.length} Gateway API CRDs labelled ${label} already exist`,
                diagnosis: {
                    link: "Gateway API CRDs already on the cluster",
                    evidence: live.map(crdOwnerLine),
                    cause: "this program installed them before and kept them when they left the stack (turning the gateway off, a destroy: deleting a CRD would delete every route of its kind), or they were handed over to it; creating them again would fail with AlreadyExists",
                    fix: `run \`${UPSERT_ENV}=true pulumi up\` once: the Kubernetes provider then updates existing objects in place instead of failing`,
                    blocks: BLOCKS(),
                },
            };
        },
    };
}

/** `NAME=VERSION`: a CRD and the version of it Cilium needs served. */
function parseServed(entry: string): { name: string; version: string } {
    const [name, version] = entry.split("=");
    return { name, version };
}

function existingStep(o: GatewayApiCrdsOptions): Step {
    const wanted = o.served.map(parseServed);
    return {
        name: `the Gateway API CRDs Cilium needs are installed by their owner (${wanted.length})`,
        async check({ kube }): Promise<StepResult> {
            const states = await Promise.all(
                wanted.map(async (w) => {
                    const crd = await readOptional(kube.ext.readCustomResourceDefinition({ name: w.name }));
                    const state = crdState(crd);
                    const served = crd?.spec.versions.some((v) => v.name === w.version && v.served) ?? false;
                    return { ...w, crd, state, served };
                }),
            );
            const bad = states.filter((s) => !s.state.established || !s.served);
            if (!bad.length) {
                const bundles = [...new Set(states.map((s) => s.crd?.metadata?.annotations?.[BUNDLE_VERSION_ANNOTATION] ?? "unknown"))];
                return { ok: true, detail: `${states.length} established, bundle ${bundles.join(", ")}` };
            }
            const lines = bad.map((s) =>
                s.state.established
                    ? `CustomResourceDefinition ${s.name}: does not serve ${s.version}`
                    : `CustomResourceDefinition ${s.name}: ${s.state.detail}`,
            );
            return {
                ok: false,
                waiting: lines[0],
                diagnosis: {
                    link: "Gateway API CRDs (talos-platform:gateway.gatewayApi.crds: existing)",
                    evidence: lines,
                    cause: "their installer has not installed them, or installed a release without these versions; Cilium's operator looks for them once, when it starts, and without them never runs its Gateway API controller",
                    fix: `install the standard-channel Gateway API CRDs ${o.bundleVersion} with their installer, or let this program install them (gateway.gatewayApi.crds: install)`,
                    blocks: BLOCKS(),
                },
            };
        },
    };
}

export function gatewayApiCrdsSteps(o: GatewayApiCrdsOptions): Step[] {
    return [o.mode === "existing" ? existingStep(o) : ownershipStep(o)];
}
