import * as k8s from "@kubernetes/client-node";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";

/** The API clients a gate uses, all from one kubeconfig and context. */
export interface Kube {
    core: k8s.CoreV1Api;
    apps: k8s.AppsV1Api;
    ext: k8s.ApiextensionsV1Api;
    custom: k8s.CustomObjectsApi;
    exec: k8s.Exec;
    /** The API server URL and context, for messages. */
    server: string;
    context: string;
}

/** A kubeconfig problem: the checker cannot even start. */
export class KubeconfigError extends Error {}

/**
 * Loads the kubeconfig the way the Pulumi Kubernetes provider does when given
 * only a context: KUBECONFIG (or ~/.kube/config), then the named context.
 */
export function connect(opts: { kubeconfig?: string; context?: string }): Kube {
    const kc = new k8s.KubeConfig();
    try {
        if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
        else if (
            process.env.KUBECONFIG ||
            fs.existsSync(path.join(os.homedir(), ".kube", "config")) ||
            process.env.KUBERNETES_SERVICE_HOST
        ) {
            kc.loadFromDefault();
        } else {
            // loadFromDefault would fall back to http://localhost:8080, which is never the Talos cluster.
            throw new KubeconfigError(
                "no kubeconfig: KUBECONFIG is unset and ~/.kube/config does not exist; run `talosctl kubeconfig` first",
            );
        }
    } catch (e) {
        if (e instanceof KubeconfigError) throw e;
        throw new KubeconfigError(`cannot read the kubeconfig${opts.kubeconfig ? ` ${opts.kubeconfig}` : ""}: ${(e as Error).message}`);
    }
    if (opts.context) {
        if (!kc.getContexts().some((c) => c.name === opts.context)) {
            const known = kc
                .getContexts()
                .map((c) => c.name)
                .join(", ");
            throw new KubeconfigError(
                `the kubeconfig has no context '${opts.context}' (it has: ${known || "none"}); set talos-platform:cluster.kubeContext to one of them`,
            );
        }
        kc.setCurrentContext(opts.context);
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeconfigError("the kubeconfig names no cluster for its current context; run `talosctl kubeconfig` first");
    return {
        core: kc.makeApiClient(k8s.CoreV1Api),
        apps: kc.makeApiClient(k8s.AppsV1Api),
        ext: kc.makeApiClient(k8s.ApiextensionsV1Api),
        custom: kc.makeApiClient(k8s.CustomObjectsApi),
        exec: new k8s.Exec(kc),
        server: cluster.server,
        context: kc.getCurrentContext(),
    };
}

/** The HTTP status of an API error, when the API server answered. */
export function statusCode(e: unknown): number | undefined {
    return e instanceof k8s.ApiException ? (e as k8s.ApiException<unknown>).code : undefined;
}

/** The API server's own message (from its Status body), or the transport error. */
export function apiMessage(e: unknown): string {
    if (e instanceof k8s.ApiException) {
        const body = (e as k8s.ApiException<unknown>).body;
        let parsed: unknown = body;
        if (typeof body === "string") {
            try {
                parsed = JSON.parse(body);
            } catch {
                return body.trim() || `HTTP ${(e as k8s.ApiException<unknown>).code}`;
            }
        }
        const message = (parsed as { message?: unknown } | null)?.message;
        return typeof message === "string" ? message : `HTTP ${(e as k8s.ApiException<unknown>).code}`;
    }
    return e instanceof Error ? e.message : String(e);
}

/** True when the request never reached the API server (refused, reset, DNS, TLS); a bug in a step is not one. */
export function isTransportError(e: unknown): boolean {
    if (!(e instanceof Error) || e instanceof k8s.ApiException) return false;
    const code = (e as { code?: unknown }).code;
    return e.name === "FetchError" || (typeof code === "string" && /^(E[A-Z_]+|CERT_\w+|UNABLE_TO_\w+|DEPTH_ZERO_\w+)$/.test(code));
}

/** Reads an object, or undefined when the API server says it does not exist. */
export async function readOptional<T>(read: Promise<T>): Promise<T | undefined> {
    try {
        return await read;
    } catch (e) {
        if (statusCode(e) === 404) return undefined;
        throw e;
    }
}

/** Runs a command in a container and returns its output; rejects when it cannot run or exits non-zero. */
export async function execText(kube: Kube, namespace: string, pod: string, container: string, command: string[], timeoutMs: number) {
    let out = "";
    // The client ends each stream when the status arrives: one sink per stream.
    const sink = () =>
        new Writable({
            write(chunk: Buffer, _enc, done) {
                out += chunk.toString("utf8");
                done();
            },
        }).on("error", () => undefined);
    return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer from exec in ${namespace}/${pod} within ${timeoutMs} ms`)), timeoutMs);
        const finish = (err?: Error) => {
            clearTimeout(timer);
            if (err) reject(err);
            else resolve(out);
        };
        kube.exec
            .exec(namespace, pod, container, command, sink(), sink(), null, false, (status) => {
                if (status.status === "Success") finish();
                else
                    finish(
                        new Error(
                            `${command.join(" ")} failed: ${status.message ?? status.reason ?? "non-zero exit"}${out ? `: ${out.trim()}` : ""}`,
                        ),
                    );
            })
            .then(
                (ws) => ws.on("close", () => finish()),
                (e: unknown) => finish(e instanceof Error ? e : new Error(String((e as { message?: unknown })?.message ?? e))),
            );
    });
}
