import type { CheckContext, PlatformConfig, SectionName } from "../config";
import type { Problem } from "../problems";

/**
 * A cross-check over parsed config. `needs` names the sections it reads; it
 * runs only when all of them parsed, so one malformed section does not hide
 * the problems in the others.
 */
export interface Check {
    name: string;
    needs: readonly SectionName[];
    run(config: PlatformConfig, ctx: CheckContext): Problem[];
}
