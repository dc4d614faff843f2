/** The package's root directory (with a trailing slash). */
export declare const root: string;
/** The compiled CLI's entry point. */
export declare const built: string;
/** Whether dist/ is at least as new as every TypeScript source under src/. */
export declare function distIsCurrent(): boolean;
