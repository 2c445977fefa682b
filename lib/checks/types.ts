import type { CheckContext, PlatformConfig } from "../config";
import type { Problem } from "../problems";

/**
 * A cross-check over parsed config. A check that reads a section which
 * failed to parse is skipped (see runCheck), so one malformed section does
 * not hide the problems in the others, and no check has to list what it reads.
 */
export interface Check {
    name: string;
    run(config: PlatformConfig, ctx: CheckContext): Problem[];
    /** Runs even when sections are missing, and reads them defensively. @default false */
    partial?: boolean;
}
