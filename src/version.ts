/** The tool's version, written into every migrated run (`wandb/migration/tool_version`). */
export const TOOL_VERSION = '0.1.0';
