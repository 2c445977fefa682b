import * as k8s from "@kubernetes/client-node";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import type { ContextOrigin } from "./options";

/** The API clients a gate uses, all from one kubeconfig and context. */
export interface Kube {
    core: k8s.CoreV1Api;
    apps: k8s.AppsV1Api;
    ext: k8s.ApiextensionsV1Api;
    custom: k8s.CustomObjectsApi;
    /** Leases: Cilium's L2 announcements hold one per announced Service. */
    coordination: k8s.CoordinationV1Api;
    /** GET /version: the API server's Kubernetes version. */
    version: k8s.VersionApi;
    exec: k8s.Exec;
    /**
     * Deletes probe pods. It has a time limit of its own (CLEANUP_LIMIT_MS per
     * request), not the gate's: cleanup runs after the deadline and on interrupt.
     */
    cleanup: k8s.CoreV1Api;
    /**
     * Bounds every later request of the other clients: each is aborted at
     * `deadline`, when `signal` aborts, and after REQUEST_LIMIT_MS at most,
     * so an API server that accepts connections and never answers cannot
     * hold a gate (or the process) past its timeout.
     */
    limit(deadline: number, signal?: AbortSignal): void;
    /** The API server URL and context, for messages. */
    server: string;
    context: string;
}

/** The longest a single API request may take before the gate counts the API server as not answering. */
export const REQUEST_LIMIT_MS = 15_000;
/** The longest a probe-pod deletion may take. */
export const CLEANUP_LIMIT_MS = 5_000;

/** A kubeconfig problem: the checker cannot even start. */
export class KubeconfigError extends Error {}

/**
 * Loads the kubeconfig the way the Pulumi Kubernetes provider does when given
 * only a context: KUBECONFIG (or ~/.kube/config), then the named context.
 */
export function connect(opts: { kubeconfig?: string; context?: string; contextFrom?: ContextOrigin }): Kube {
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
        const source = opts.kubeconfig
            ? `--kubeconfig ${opts.kubeconfig}`
            : process.env.KUBECONFIG
              ? `KUBECONFIG=${process.env.KUBECONFIG}`
              : "~/.kube/config";
        throw new KubeconfigError(
            `cannot read the kubeconfig (${source}): ${(e as Error).message}; point it at the file \`talosctl kubeconfig\` wrote`,
        );
    }
    if (opts.context) {
        if (!kc.getContexts().some((c) => c.name === opts.context)) {
            const known = kc
                .getContexts()
                .map((c) => c.name)
                .join(", ");
            const fix =
                opts.contextFrom === "flag" ? "pass --context with one of them" : "set talos-platform:cluster.kubeContext to one of them";
            throw new KubeconfigError(`the kubeconfig has no context '${opts.context}' (it has: ${known || "none"}); ${fix}`);
        }
        kc.setCurrentContext(opts.context);
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeconfigError("the kubeconfig names no cluster for its current context; run `talosctl kubeconfig` first");
    checkKubeconfig(kc, cluster);

    const bounded = new RequestBounds();
    const cleanup = new RequestBounds();
    return {
        core: apiClient(kc, cluster, k8s.CoreV1Api, bounded),
        apps: apiClient(kc, cluster, k8s.AppsV1Api, bounded),
        ext: apiClient(kc, cluster, k8s.ApiextensionsV1Api, bounded),
        custom: apiClient(kc, cluster, k8s.CustomObjectsApi, bounded),
        coordination: apiClient(kc, cluster, k8s.CoordinationV1Api, bounded),
        version: apiClient(kc, cluster, k8s.VersionApi, bounded),
        cleanup: apiClient(kc, cluster, k8s.CoreV1Api, cleanup, CLEANUP_LIMIT_MS),
        exec: new k8s.Exec(kc),
        limit: (deadline, signal) => bounded.set(deadline, signal),
        server: cluster.server,
        context: kc.getCurrentContext(),
    };
}

/**
 * Abort signals for requests: each ends at the deadline, after its own time
 * limit, or when the gate's signal aborts. Plain controllers and timers: a
 * signal from AbortSignal.any over AbortSignal.timeout, which nothing else
 * references, did not fire in a fresh process here (it can be garbage-collected
 * first), and a request to a silent API server then hung past the deadline.
 */
class RequestBounds {
    private deadline = Infinity;
    private readonly live = new Set<AbortController>();
    private signal?: AbortSignal;

    set(deadline: number, signal?: AbortSignal): void {
        this.deadline = deadline;
        if (signal === this.signal) return;
        this.signal = signal;
        signal?.addEventListener("abort", () => this.live.forEach((c) => c.abort()), { once: true });
    }

    /** A signal for one request. Its timer outlives an answered request by at most `limitMs`, unref'd. */
    open(limitMs: number): AbortSignal {
        const controller = new AbortController();
        if (this.signal?.aborted) controller.abort();
        this.live.add(controller);
        const timer = setTimeout(
            () => {
                controller.abort();
                this.live.delete(controller);
            },
            Math.max(1, Math.min(limitMs, this.deadline - Date.now())),
        );
        // A request the API server has answered must not keep the process alive.
        timer.unref();
        return controller.signal;
    }
}

/** An API client like KubeConfig.makeApiClient's, whose every request carries a signal from `bounds`. */
function apiClient<T>(
    kc: k8s.KubeConfig,
    cluster: k8s.Cluster,
    api: new (config: k8s.Configuration) => T,
    bounds: RequestBounds,
    limitMs = REQUEST_LIMIT_MS,
): T {
    return new api(
        k8s.createConfiguration({
            baseServer: new k8s.ServerConfiguration(cluster.server, {}),
            authMethods: { default: kc },
            promiseMiddleware: [
                {
                    pre: async (ctx) => {
                        ctx.setSignal(bounds.open(limitMs));
                        return ctx;
                    },
                    post: async (response) => response,
                },
            ],
        }),
    );
}

/**
 * What the client would only trip over at the first request, with a stack
 * trace: a plain-HTTP server without skip-TLS-verify, and files the
 * kubeconfig names that cannot be read.
 */
function checkKubeconfig(kc: k8s.KubeConfig, cluster: k8s.Cluster): void {
    const where = `(context ${kc.getCurrentContext()})`;
    let url: URL;
    try {
        url = new URL(cluster.server);
    } catch {
        throw new KubeconfigError(`the kubeconfig's server '${cluster.server}' ${where} is not a URL`);
    }
    if (url.protocol === "http:" && !cluster.skipTLSVerify) {
        throw new KubeconfigError(
            `the kubeconfig's server ${cluster.server} ${where} is plain HTTP; the Kubernetes API is served over TLS: use https:// (Talos: https://<endpoint>:6443)`,
        );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new KubeconfigError(`the kubeconfig's server ${cluster.server} ${where} is not an https:// URL`);
    }
    const user = kc.getCurrentUser();
    const files: [string | undefined, string][] = [
        [cluster.caFile, "certificate-authority"],
        [user?.certFile, "client-certificate"],
        [user?.keyFile, "client-key"],
    ];
    for (const [file, key] of files) {
        if (!file) continue;
        try {
            fs.accessSync(file, fs.constants.R_OK);
        } catch (e) {
            throw new KubeconfigError(`cannot read ${file}, the kubeconfig's ${key} ${where}: ${(e as Error).message}`);
        }
    }
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
    if (e instanceof Error && e.name === "AbortError") return "no answer from the API server in time (request aborted)";
    return e instanceof Error ? e.message : String(e);
}

/** Connection failures that can pass: the API server restarting, the Talos VIP moving, a network blip. */
const NETWORK_CODE =
    /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EHOSTUNREACH|EHOSTDOWN|ENETUNREACH|ENETDOWN|ENOTFOUND|EAI_AGAIN|EPIPE|EPROTO)$/;
/** TLS verification failures: the server is not the one the kubeconfig's CA vouches for. */
const TLS_CODE = /^(CERT_\w+|UNABLE_TO_\w+|DEPTH_ZERO_\w+|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|ERR_TLS_\w+|ERR_SSL_\w+)$/;

/** How a request failed without an answer: no answer in time, a connection failure, a TLS verification failure. */
export type Transport = "unanswered" | "network" | "tls";

/**
 * How a request failed without an answer from the API server: no answer in
 * time (aborted), a connection failure, or a TLS verification failure.
 * Undefined when the API server answered, or the error is something else.
 */
export function transportFailure(e: unknown): Transport | undefined {
    if (!(e instanceof Error) || e instanceof k8s.ApiException) return undefined;
    if (e.name === "AbortError") return "unanswered";
    const { code, type } = e as { code?: unknown; type?: unknown };
    if (typeof code === "string" && TLS_CODE.test(code)) return "tls";
    if (typeof code === "string" && NETWORK_CODE.test(code)) return "network";
    // node-fetch's wrapper of any other socket error.
    if (e.name === "FetchError" && type === "system") return "network";
    return undefined;
}

/**
 * A file or command the kubeconfig names that fails when a request uses it
 * (a client certificate removed since start-up, a missing exec credential
 * plugin): the kubeconfig is wrong, not the API server unreachable.
 */
export function kubeconfigFault(e: unknown): string | undefined {
    if (!(e instanceof Error)) return undefined;
    const { syscall, path: file } = e as { syscall?: unknown; path?: unknown };
    if (typeof syscall === "string" && /^(open|spawn)/.test(syscall) && typeof file === "string")
        return `cannot use ${file}, named by the kubeconfig: ${e.message}`;
    return undefined;
}

/** Reads an object, or undefined when the API server says it does not exist. */
/** A status condition as the controllers this checker reads write them (Flux, cert-manager). */
export interface Condition {
    type?: string;
    status?: string;
    reason?: string;
    message?: string;
    observedGeneration?: number;
}

export async function readOptional<T>(read: Promise<T>): Promise<T | undefined> {
    try {
        return await read;
    } catch (e) {
        if (statusCode(e) === 404) return undefined;
        throw e;
    }
}

/** A failed exec; `status` is the HTTP status when the API server refused the exec request itself (403: RBAC). */
export class ExecError extends Error {
    constructor(
        message: string,
        readonly status?: number,
    ) {
        super(message);
    }
}

/**
 * Runs a command in a container and returns its output; rejects with an
 * ExecError when it cannot run, exits non-zero, or does not finish within
 * `timeoutMs` (or when `signal` aborts), closing the WebSocket either way.
 */
export async function execText(
    kube: Kube,
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    timeoutMs: number,
    signal?: AbortSignal,
) {
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
        let socket: { close(): void } | undefined;
        let settled = false;
        const finish = (err?: Error) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            signal?.removeEventListener("abort", aborted);
            socket?.close();
            if (err) reject(err);
            else resolve(out);
        };
        const aborted = () => finish(new ExecError("interrupted"));
        const timer = setTimeout(
            () => finish(new ExecError(`no answer from exec in ${namespace}/${pod} within ${timeoutMs} ms`)),
            timeoutMs,
        );
        signal?.addEventListener("abort", aborted, { once: true });
        kube.exec
            .exec(namespace, pod, container, command, sink(), sink(), null, false, (status) => {
                if (status.status === "Success") finish();
                else
                    finish(
                        new ExecError(
                            `${command.join(" ")} failed: ${status.message ?? status.reason ?? "non-zero exit"}${out ? `: ${out.trim()}` : ""}`,
                        ),
                    );
            })
            .then(
                (ws) => {
                    socket = ws;
                    if (settled) ws.close();
                    ws.on("close", () => finish());
                },
                (e: unknown) => {
                    // The WebSocket handshake's refusal: "Unexpected server response: 403".
                    const message = e instanceof Error ? e.message : String((e as { message?: unknown })?.message ?? e);
                    const status = /Unexpected server response: (\d{3})/.exec(message)?.[1];
                    finish(new ExecError(`exec in ${namespace}/${pod}: ${message}`, status ? Number(status) : undefined));
                },
            );
    });
}
