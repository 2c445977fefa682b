import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { withoutSdkStacks } from "../lib/plan/sdk-stacks";

// Resource.callsites is what the SDK marshals into each register request as the resource's source position.
const callsites = () => (pulumi.Resource as unknown as { callsites(): object[] }).callsites();

describe("the offline plan without the SDK's bookkeeping stacks", () => {
    // As `npm run plan` runs: V8's own format, not the test setup's (test/setup/callsites.ts), which drops them too.
    let setup: typeof Error.prepareStackTrace;
    beforeEach(() => {
        setup = Error.prepareStackTrace;
        delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
    });
    afterEach(() => (Error.prepareStackTrace = setup));

    it("takes no frames where the SDK records a resource's creation, and every frame elsewhere", async () => {
        expect(callsites().length, "outside: the SDK's own frames").to.be.greaterThan(1);
        const inside = await withoutSdkStacks(async () => ({ sdk: callsites(), ours: new Error("ours").stack! }));
        expect(inside.sdk).to.deep.equal([]);
        // An error of the program keeps its frames, this test's among them.
        expect(inside.ours.split("\n")[0]).to.equal("Error: ours");
        expect(inside.ours).to.contain("sdk-stacks.test");
    });

    it("puts the previous formatter back, also when the plan throws", async () => {
        const before = Error.prepareStackTrace;
        await withoutSdkStacks(async () => expect(Error.prepareStackTrace).to.not.equal(before));
        expect(Error.prepareStackTrace).to.equal(before);
        let thrown: unknown;
        await withoutSdkStacks(async () => {
            throw new Error("config error");
        }).catch((e) => (thrown = e));
        expect((thrown as Error).message).to.equal("config error");
        expect(Error.prepareStackTrace).to.equal(before);
    });

    it("keeps every frame when the user debugs promise leaks (PULUMI_DEBUG_PROMISE_LEAKS)", async () => {
        process.env.PULUMI_DEBUG_PROMISE_LEAKS = "1";
        try {
            expect((await withoutSdkStacks(async () => callsites())).length).to.be.greaterThan(1);
        } finally {
            delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
        }
    });
});
