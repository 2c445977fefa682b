import { ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Duplex } from "node:stream";

// A fake Kubernetes API server for the gate checker's end-to-end tests. It
// serves the real @kubernetes/client-node over HTTP on 127.0.0.1 (and exec
// over a WebSocket), keeps objects in memory, and "runs" probe pods by
// executing their actual shell script with fake curl and nslookup on PATH
// that answer from the scenario's network table. Every pod creation and
// deletion is recorded so tests can assert cleanup.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

/** What the scenario's network answers a probe's tool: exit code and output. */
export interface NetAnswer {
    rc: number;
    out: string;
}

export interface ExecAnswer {
    stdout: string;
    exitCode: number;
}

const PLURALS: Record<string, string> = {
    Pod: "pods",
    ConfigMap: "configmaps",
    Service: "services",
    Deployment: "deployments",
    DaemonSet: "daemonsets",
    CustomResourceDefinition: "customresourcedefinitions",
    GitRepository: "gitrepositories",
    Kustomization: "kustomizations",
    CiliumLoadBalancerIPPool: "ciliumloadbalancerippools",
    Secret: "secrets",
    Node: "nodes",
    Namespace: "namespaces",
    CiliumBGPPeeringPolicy: "ciliumbgppeeringpolicies",
    CiliumBGPClusterConfig: "ciliumbgpclusterconfigs",
    CiliumBGPPeerConfig: "ciliumbgppeerconfigs",
    CiliumBGPAdvertisement: "ciliumbgpadvertisements",
    CiliumL2AnnouncementPolicy: "ciliuml2announcementpolicies",
    HelmRelease: "helmreleases",
    FluxInstance: "fluxinstances",
    ClusterIssuer: "clusterissuers",
    Certificate: "certificates",
    Challenge: "challenges",
    CiliumBGPNodeConfig: "ciliumbgpnodeconfigs",
    Lease: "leases",
    GatewayClass: "gatewayclasses",
    Gateway: "gateways",
    HTTPRoute: "httproutes",
};

/** The resource name (plural) the fake serves a kind under. */
export function pluralOf(kind: string): string {
    const plural = PLURALS[kind];
    if (!plural) throw new Error(`the fake API serves no kind ${kind}: add it to PLURALS`);
    return plural;
}

/** Where a request path points: a kind's collection (name undefined) or one object, with its API group and version. */
interface PathRef {
    group: string;
    version: string;
    namespace?: string;
    plural: string;
    name?: string;
    /** Anything after the name: a subresource such as log, exec or proxy. */
    sub: string[];
}

/** /api/v1/namespaces/ns/pods/name, /apis/group/version/plural, ... as its parts; undefined for anything else. */
function parsePath(p: string): PathRef | undefined {
    const parts = p.split("/").filter(Boolean);
    let group: string;
    let rest: string[];
    if (parts[0] === "api" && parts.length >= 3) [group, rest] = ["", parts.slice(1)];
    else if (parts[0] === "apis" && parts.length >= 4) [group, rest] = [parts[1], parts.slice(2)];
    else return undefined;
    const version = rest[0];
    rest = rest.slice(1);
    let namespace: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) [namespace, rest] = [rest[1], rest.slice(2)];
    return { group, version, namespace, plural: rest[0], name: rest[1], sub: rest.slice(2) };
}

const STUB = `#!/bin/sh
# Fake network for probe pods: answers from the table in $FAKE_NET.
tool=$(basename "$0")
target=""
if [ "$tool" = nslookup ]; then target="$1"; else
  for a in "$@"; do case "$a" in http://*|https://*) target="$a";; esac; done
fi
line=$(grep -F -m1 "$(printf '%s %s\\t' "$tool" "$target")" "$FAKE_NET")
if [ -z "$line" ]; then echo "fake network: no answer configured for $tool $target" >&2; exit 99; fi
out=$(printf '%s' "$line" | cut -f3-)
[ -n "$out" ] && printf '%b\\n' "$out" >&2
exit "$(printf '%s' "$line" | cut -f2)"
`;

function status(code: number, reason: string, message: string) {
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

/** RBAC's refusal, worded as the API server words it. */
function forbidden(method: string, p: string) {
    const parts = p.split("/").filter(Boolean);
    const core = parts[0] === "api";
    const group = core ? "" : parts[1];
    let rest = parts.slice(core ? 2 : 3);
    let ns: string | undefined;
    if (rest[0] === "namespaces" && rest.length > 2) [ns, rest] = [rest[1], rest.slice(2)];
    const resource = rest[2] ? `${rest[0]}/${rest[2]}` : rest[0];
    const verb = { GET: "get", POST: "create", DELETE: "delete", EXEC: "create" }[method] ?? method.toLowerCase();
    const subject = `${rest[0]}${group ? `.${group}` : ""}${rest[1] ? ` "${rest[1]}"` : ""}`;
    const message = `${subject} is forbidden: User "fake" cannot ${verb} resource "${resource}" in API group "${group}"${ns ? ` in the namespace "${ns}"` : ""}`;
    return status(403, "Forbidden", message);
}

function matches(labels: Record<string, string> | undefined, selector: string | null): boolean {
    if (!selector) return true;
    return selector.split(",").every((term) => {
        const [k, v] = term.split("=");
        return (labels ?? {})[k] === v;
    });
}

interface PodRun {
    createdAt: number;
    done?: { log: string; message: string };
    child?: ChildProcess;
}

export class FakeKube {
    readonly objects = new Map<string, Obj>();
    readonly requests: { method: string; path: string }[] = [];
    /** Probe pods, by name, as created. */
    readonly createdPods: Obj[] = [];
    readonly deletedPods: string[] = [];
    /** Dry-run creates received (and never stored). */
    readonly dryRuns: Obj[] = [];
    /** `${tool} ${target}` → answer. Unlisted targets fail loudly (exit 99). */
    net: Record<string, NetAnswer> = {};
    /** How long a probe pod takes to finish after creation. */
    podRunMs = 20;
    /** When set, probe pods never start: the container waits with this reason. */
    podStuck?: { reason: string; message: string };
    /** Paths the fake user may not use (403), as RBAC would answer; exec included. */
    forbid?: RegExp;
    /** Paths whose requests are accepted and never answered: a wedged API server. */
    silent?: RegExp;
    /** How many of the next requests get their connection dropped (ECONNRESET): an API server restarting. */
    dropConnections = 0;
    /** When set, the kubelet "could not write" the termination message: results are only in the log. */
    dropTerminationMessage = false;
    /** When set, probe pod creation is refused with this status code and message. */
    refusePods?: { code: number; message: string };
    exec: (pod: string, container: string, command: string[]) => ExecAnswer = () => ({ stdout: "", exitCode: 126 });
    /**
     * Answers to GETs of paths that hold no stored object (/version, a node's
     * proxy/configz): the JSON body, or a status code and message.
     */
    readonly raw = new Map<string, unknown>();
    /** The answer to a dry-run Certificate create: 201, or an error status and message. */
    certificateApi: () => { code: number; message?: string } = () => ({ code: 201 });

    private server?: http.Server;
    private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-kube-"));
    private readonly pods = new Map<string, PodRun>();
    private readonly sockets = new Set<Duplex>();

    get url(): string {
        return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    }

    async start(): Promise<this> {
        for (const tool of ["curl", "nslookup"]) fs.writeFileSync(path.join(this.dir, tool), STUB, { mode: 0o755 });
        this.server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c: Buffer) => (body += c.toString()));
            req.on("end", () => this.handle(req, body, res));
        });
        this.server.on("upgrade", (req, socket) => this.upgrade(req, socket));
        this.server.on("connection", (s) => {
            this.sockets.add(s);
            s.on("close", () => this.sockets.delete(s));
        });
        await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
        return this;
    }

    async stop(): Promise<void> {
        for (const run of this.pods.values()) run.child?.kill();
        for (const s of this.sockets) s.destroy();
        await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    /** A kubeconfig file whose only context points at this server. */
    kubeconfig(context = "fake"): string {
        const file = path.join(this.dir, "kubeconfig");
        fs.writeFileSync(
            file,
            JSON.stringify({
                apiVersion: "v1",
                kind: "Config",
                clusters: [{ name: "fake", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
                users: [{ name: "fake", user: { token: "fake-token" } }],
                contexts: [{ name: context, context: { cluster: "fake", user: "fake" } }],
                "current-context": context,
            }),
        );
        return file;
    }

    static pathOf(obj: Obj): string {
        const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [undefined, obj.apiVersion];
        const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
        const ns = obj.metadata.namespace ? `/namespaces/${obj.metadata.namespace}` : "";
        return `${base}${ns}/${PLURALS[obj.kind]}/${obj.metadata.name}`;
    }

    put(...objs: Obj[]): void {
        for (const o of objs) this.objects.set(FakeKube.pathOf(o), structuredClone(o));
    }

    remove(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): void {
        this.objects.delete(FakeKube.pathOf(obj));
    }

    /** Probe pods created and not deleted. */
    livePods(): string[] {
        return this.createdPods.map((p) => p.metadata.name).filter((n: string) => !this.deletedPods.includes(n));
    }

    private send(res: http.ServerResponse, code: number, body: unknown): void {
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
    }

    private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
        const url = new URL(req.url ?? "/", "http://x");
        const p = url.pathname;
        this.requests.push({ method: req.method ?? "", path: p });
        if (this.silent?.test(p)) return;
        if (this.dropConnections > 0) {
            this.dropConnections--;
            return void req.socket.destroy();
        }
        if (this.forbid?.test(p)) return this.send(res, 403, forbidden(req.method ?? "GET", p));
        const podMatch = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?(\/log)?$/.exec(p);
        if (req.method === "POST" && podMatch && !podMatch[2]) return this.createPod(podMatch[1], JSON.parse(body), res);
        if (req.method === "DELETE" && podMatch?.[2]) return this.deletePod(p, podMatch[2], res);
        if (req.method === "GET" && podMatch?.[3]) {
            const run = this.pods.get(podMatch[2]!);
            res.writeHead(run?.done ? 200 : 400, { "content-type": "text/plain" });
            return void res.end(run?.done?.log ?? "container not started");
        }
        if (req.method === "POST" && /\/apis\/cert-manager\.io\/v1\/namespaces\/[^/]+\/certificates$/.test(p)) {
            if (url.searchParams.get("dryRun") !== "All")
                return this.send(res, 400, status(400, "BadRequest", "this fake only accepts dry-run creates"));
            this.dryRuns.push(JSON.parse(body));
            const a = this.certificateApi();
            if (a.code >= 300)
                return this.send(res, a.code, status(a.code, a.code === 404 ? "NotFound" : "InternalError", a.message ?? ""));
            return this.send(res, 201, {
                ...JSON.parse(body),
                metadata: { ...JSON.parse(body).metadata, name: "talos-platform-apicheck-x1" },
            });
        }
        if (req.method !== "GET") return this.send(res, 405, status(405, "MethodNotAllowed", `${req.method} ${p} is not faked`));
        if (this.raw.has(p)) {
            const answer = this.raw.get(p) as { code?: number; message?: string };
            if (typeof answer?.code === "number") return this.send(res, answer.code, status(answer.code, "Failure", answer.message ?? ""));
            return this.send(res, 200, answer);
        }
        const obj = this.objects.get(p);
        if (obj) return this.send(res, 200, obj.kind === "Pod" ? this.podView(obj) : obj);
        const ref = parsePath(p);
        if (ref && ref.name === undefined && Object.values(PLURALS).includes(ref.plural)) {
            // A collection lists its kind in every namespace unless one is named, and in the
            // version asked for: the API server converts between a CRD's served versions.
            const apiVersion = ref.group ? `${ref.group}/${ref.version}` : ref.version;
            const items = [...this.objects.entries()]
                .filter(([k]) => {
                    const o = parsePath(k)!;
                    return (
                        o.group === ref.group && o.plural === ref.plural && (ref.namespace === undefined || o.namespace === ref.namespace)
                    );
                })
                .map(([, v]) => (v.apiVersion === apiVersion ? v : { ...structuredClone(v), apiVersion }))
                .filter((o) => matches(o.metadata.labels, url.searchParams.get("labelSelector")))
                .map((o) => (o.kind === "Pod" ? this.podView(o) : o));
            return this.send(res, 200, { kind: "List", apiVersion: "v1", metadata: {}, items });
        }
        const name = p.split("/").pop();
        return this.send(res, 404, status(404, "NotFound", `${p.split("/").slice(-2, -1)[0]} "${name}" not found`));
    }

    private createPod(namespace: string, pod: Obj, res: http.ServerResponse): void {
        if (this.refusePods)
            return this.send(res, this.refusePods.code, status(this.refusePods.code, "Forbidden", this.refusePods.message));
        pod.metadata = { ...pod.metadata, namespace, uid: `uid-${pod.metadata.name}`, creationTimestamp: new Date().toISOString() };
        this.createdPods.push(structuredClone(pod));
        this.objects.set(FakeKube.pathOf(pod), pod);
        const run: PodRun = { createdAt: Date.now() };
        this.pods.set(pod.metadata.name, run);
        if (!this.podStuck) this.runProbe(pod, run);
        this.send(res, 201, this.podView(pod));
    }

    /** Runs the pod's own command, as the container would, against the fake network. */
    private runProbe(pod: Obj, run: PodRun): void {
        const c = pod.spec.containers[0];
        const resultFile = path.join(this.dir, `${pod.metadata.name}.result`);
        const netFile = path.join(this.dir, `${pod.metadata.name}.net`);
        fs.writeFileSync(
            netFile,
            Object.entries(this.net)
                .map(([k, a]) => `${k}\t${a.rc}\t${a.out.replace(/\n/g, "\\n")}\n`)
                .join(""),
        );
        const env = { PATH: `${this.dir}:${process.env.PATH}`, FAKE_NET: netFile, RESULT_FILE: resultFile };
        const child = spawn(c.command[0], c.command.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
        run.child = child;
        let log = "";
        child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
        child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
        child.on("close", () => {
            const message = fs.existsSync(resultFile) ? fs.readFileSync(resultFile, "utf8") : "";
            run.done = { log, message };
        });
    }

    private podView(pod: Obj): Obj {
        const run = this.pods.get(pod.metadata.name);
        if (!run) return pod;
        const view = structuredClone(pod);
        const finished = run?.done && Date.now() - run.createdAt >= this.podRunMs;
        if (this.podStuck) {
            view.status = {
                phase: "Pending",
                containerStatuses: [
                    { name: "probe", ready: false, restartCount: 0, image: "", imageID: "", state: { waiting: this.podStuck } },
                ],
            };
        } else if (finished) {
            const terminated = { exitCode: 0, reason: "Completed", message: this.dropTerminationMessage ? "" : run!.done!.message };
            view.status = {
                phase: "Succeeded",
                containerStatuses: [{ name: "probe", ready: false, restartCount: 0, image: "", imageID: "", state: { terminated } }],
            };
        } else {
            view.status = {
                phase: "Pending",
                containerStatuses: [
                    {
                        name: "probe",
                        ready: false,
                        restartCount: 0,
                        image: "",
                        imageID: "",
                        state: { waiting: { reason: "ContainerCreating" } },
                    },
                ],
            };
        }
        return view;
    }

    private deletePod(p: string, name: string, res: http.ServerResponse): void {
        const pod = this.objects.get(p);
        if (!pod) return this.send(res, 404, status(404, "NotFound", `pods "${name}" not found`));
        this.objects.delete(p);
        this.deletedPods.push(name);
        this.pods.get(name)?.child?.kill();
        this.send(res, 200, pod);
    }

    /** kubectl exec over a WebSocket (v4.channel.k8s.io): stdout on channel 1, the status on channel 3. */
    private upgrade(req: http.IncomingMessage, socket: Duplex): void {
        const url = new URL(req.url ?? "/", "http://x");
        this.requests.push({ method: "EXEC", path: url.pathname });
        const m = /^\/api\/v1\/namespaces\/[^/]+\/pods\/([^/]+)\/exec$/.exec(url.pathname);
        if (!m) return void socket.destroy();
        if (this.forbid?.test(url.pathname)) {
            const body = JSON.stringify(forbidden("EXEC", url.pathname));
            return void socket.end(
                `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
            );
        }
        const key = req.headers["sec-websocket-key"];
        const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
        socket.write(
            [
                "HTTP/1.1 101 Switching Protocols",
                "Upgrade: websocket",
                "Connection: Upgrade",
                `Sec-WebSocket-Accept: ${accept}`,
                "Sec-WebSocket-Protocol: v4.channel.k8s.io",
                "",
                "",
            ].join("\r\n"),
        );
        socket.on("data", () => undefined);
        socket.on("error", () => undefined);
        const answer = this.exec(m[1], url.searchParams.get("container") ?? "", url.searchParams.getAll("command"));
        const frame = (opcode: number, payload: Buffer) => {
            const head =
                payload.length < 126
                    ? Buffer.from([0x80 | opcode, payload.length])
                    : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 255]);
            return Buffer.concat([head, payload]);
        };
        const channel = (n: number, text: string) => frame(2, Buffer.concat([Buffer.from([n]), Buffer.from(text)]));
        const st =
            answer.exitCode === 0
                ? { metadata: {}, status: "Success" }
                : {
                      metadata: {},
                      status: "Failure",
                      reason: "NonZeroExitCode",
                      message: `command terminated with non-zero exit code: error executing command, exit status ${answer.exitCode}`,
                  };
        if (answer.stdout) socket.write(channel(1, answer.stdout));
        socket.write(channel(3, JSON.stringify(st)));
        socket.end(frame(8, Buffer.from([0x03, 0xe8])));
    }
}
