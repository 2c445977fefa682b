import type { PlanResource } from "../plan/model";
import type { Match } from "./match";
import type { Planned } from "./planned";

// Pulumi's bulk import file (`pulumi import --file`): resources[] of
// {type, name, id, parent, provider, component}, and a nameTable from names
// to URNs. As the engine reads it (pkg/cmd/pulumi/operations/import.go,
// pkg/resource/deploy/import.go):
// - `parent` names another entry of the file or a nameTable entry; the
//   resource's URN is built from its parent's type chain, its type and name,
//   so it must match the program's for `pulumi up` to see the same resource.
// - `provider` names a nameTable entry holding a provider URN, and that
//   provider must already be in the stack's state (the engine looks its id
//   up there); without `provider` the import would use a default provider,
//   and the first `up` would see a provider change on every resource.
// - An entry with `component: true` and no id creates an empty component
//   resource, so the program's component parents exist before their children.

export interface ImportEntry {
    type: string;
    name: string;
    id?: string;
    parent?: string;
    provider?: string;
    component?: true;
}

export interface ImportFile {
    nameTable: Record<string, string>;
    resources: ImportEntry[];
}

/**
 * The import file for every match to import: each resource under its
 * program parents (recreated as components) and with the program's
 * Kubernetes provider. Undefined when there is nothing to import.
 */
export function importFile(matches: Match[], planned: Planned): ImportFile | undefined {
    const toImport = matches.filter((m) => m.status === "import");
    if (!toImport.length) return undefined;
    const provider = planned.provider;
    const resources: ImportEntry[] = [];
    const added = new Set<string>();
    const names = new Map<string, string>();
    const claim = (r: PlanResource) => {
        const other = names.get(r.name);
        // Entries refer to their parents by name: two resources of one name would make those references ambiguous.
        if (other && other !== r.urn)
            throw new Error(`two resources named ${r.name} (${other}, ${r.urn}): an import file cannot tell them apart`);
        names.set(r.name, r.urn);
    };
    const addComponent = (urn: string) => {
        if (added.has(urn)) return;
        const r = planned.byUrn.get(urn);
        if (!r) throw new Error(`the plan has no resource ${urn}, the parent of a resource to import`);
        if (r.parent) addComponent(r.parent);
        claim(r);
        resources.push({ type: r.type, name: r.name, ...(r.parent ? { parent: planned.byUrn.get(r.parent)!.name } : {}), component: true });
        added.add(urn);
    };
    for (const m of toImport) {
        const r = planned.byUrn.get(m.urn)!;
        if (r.parent) addComponent(r.parent);
        claim(r);
        resources.push({
            type: r.type,
            name: r.name,
            id: m.id,
            ...(r.parent ? { parent: planned.byUrn.get(r.parent)!.name } : {}),
            provider: provider.name,
        });
        added.add(r.urn);
    }
    if (names.has(provider.name)) throw new Error(`a resource to import is named ${provider.name}, like the provider's nameTable entry`);
    return { nameTable: { [provider.name]: planned.providerUrn }, resources };
}

export interface CommandStep {
    command: string;
    why: string;
}

/** The commands from here to a running platform under Pulumi, each with the reason it is there. */
export function commandSequence(
    stack: string,
    provider: string,
    imports: { file?: string; count: number },
    adoptArgs: string,
): CommandStep[] {
    const steps: CommandStep[] = [
        { command: `pulumi stack select --create ${stack}`, why: "the stack whose settings the adoption was checked against" },
    ];
    if (imports.count) {
        const file = imports.file ?? "import.json";
        if (!imports.file)
            steps.push({
                command: `npm run -s adopt -- ${adoptArgs} --import-file ${file}`,
                why: "write the import file (this run did not)",
            });
        steps.push(
            {
                command: `pulumi up --target '${provider}' --yes`,
                why: "create only the program's Kubernetes provider in the state: the import file names it, and Pulumi imports only through a provider the state already holds; it changes nothing in the cluster",
            },
            {
                command: `pulumi import --file ${file} --generate-code=false --yes`,
                why: `adopt the ${imports.count} existing object(s) under the program's URNs, so pulumi up updates them instead of failing to create them ("cannot re-use a name that is still in use", AlreadyExists); the program already declares them, so no code is generated`,
            },
        );
    }
    steps.push(
        {
            command: "pulumi preview --diff",
            why: "read the changes before making them: imported resources show as updates (the value differences above), never as create or replace; a replace means a name or namespace differs, so stop",
        },
        {
            command: "pulumi up",
            why: "apply the plan in recovery order; each phase's gate checks the cluster before the next phase starts",
        },
        { command: `npm run doctor -- --stack ${stack}`, why: "check every link of the running platform, network to GitOps" },
    );
    return steps;
}
