import { PolicyPack } from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT } from "./kit";
import { POLICIES } from "./rules";

new PolicyPack("talos-platform", { enforcementLevel: DEFAULT_ENFORCEMENT, policies: POLICIES });
