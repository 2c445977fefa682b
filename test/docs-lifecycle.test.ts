import { expect } from "chai";
import { PHASES } from "../lib/phases";
import { destroyGuardMessage } from "../lib/lifecycle/destroy";
import { devConfig } from "./cluster-scenarios";
import { readDoc, section } from "./docs";

// docs/destroy.md quotes what the program says and orders what it deletes;
// a change to either that the page does not follow fails here.

describe("docs/destroy.md", () => {
    const page = readDoc("docs/destroy.md");

    it("quotes the destroy guard's message for the dev stack, word for word", () => {
        expect(page).to.contain("```\n" + destroyGuardMessage(devConfig()) + "\n```");
    });

    it("goes through the phases in reverse recovery order, as Pulumi deletes dependents first", () => {
        const rows = section(page, "Tearing the platform down on purpose")
            .split("\n")
            .map((l) => /^\| (\d) \| (\w+) \|/.exec(l))
            .filter((m): m is RegExpExecArray => m !== null);
        expect(rows.map((m) => m[2])).to.deep.equal([...PHASES].reverse());
        expect(rows.map((m) => Number(m[1]))).to.deep.equal([1, 2, 3, 4, 5]);
    });
});
