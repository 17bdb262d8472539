/**
 * Command-line flags with tritonserver's names. `--name=value` and
 * `--name value` both work; a boolean flag alone means true. Unknown flags
 * and bad values throw FlagError naming them.
 */
export class FlagError extends Error {}

type Kind = "string" | "integer" | "boolean" | "list";

export interface FlagSpec {
  name: string;
  kind: Kind;
  help: string;
  /** Allowed values for a string flag. */
  choices?: readonly string[];
  aliases?: readonly string[];
}

export type FlagValues = Map<string, string | number | boolean | string[]>;

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): FlagValues {
  const byName = new Map<string, FlagSpec>();
  for (const spec of specs) {
    byName.set(spec.name, spec);
    for (const alias of spec.aliases ?? []) byName.set(alias, spec);
  }
  const values: FlagValues = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) throw new FlagError(`unexpected argument '${arg}' (flags start with --)`);
    const equals = arg.indexOf("=");
    const name = arg.slice(2, equals < 0 ? undefined : equals);
    const spec = byName.get(name);
    if (!spec) throw new FlagError(`unknown flag '--${name}' (see --help)`);
    let raw = equals < 0 ? undefined : arg.slice(equals + 1);
    if (raw === undefined && spec.kind !== "boolean") {
      raw = argv[++i];
      if (raw === undefined) throw new FlagError(`flag '--${name}' needs a value`);
    }
    const value = convert(spec, raw);
    if (spec.kind === "list")
      values.set(spec.name, [...((values.get(spec.name) as string[]) ?? []), value as string]);
    else values.set(spec.name, value);
  }
  return values;
}

function convert(spec: FlagSpec, raw: string | undefined): string | number | boolean {
  switch (spec.kind) {
    case "boolean": {
      if (raw === undefined) return true;
      const lower = raw.toLowerCase();
      if (["true", "1", "yes", "on"].includes(lower)) return true;
      if (["false", "0", "no", "off"].includes(lower)) return false;
      throw new FlagError(`flag '--${spec.name}' expects true or false, got '${raw}'`);
    }
    case "integer": {
      const text = raw ?? "";
      if (!/^-?[0-9]+$/.test(text))
        throw new FlagError(`flag '--${spec.name}' expects an integer, got '${text}'`);
      return Number(text);
    }
    default: {
      const text = raw ?? "";
      const choices = spec.choices;
      if (choices) {
        const match = choices.find((choice) => choice === text.toLowerCase());
        if (!match)
          throw new FlagError(`flag '--${spec.name}' expects one of ${choices.join("|")}, got '${text}'`);
        return match;
      }
      return text;
    }
  }
}

export function formatHelp(usage: string, specs: readonly FlagSpec[]): string {
  const lines = specs.map((spec) => {
    const names = [spec.name, ...(spec.aliases ?? [])].map((name) => `--${name}`).join(", ");
    const value =
      spec.kind === "boolean"
        ? "[=<bool>]"
        : spec.choices
          ? `=${spec.choices.join("|")}`
          : `=<${spec.kind === "integer" ? "int" : "value"}>`;
    return `  ${`${names}${value}`.padEnd(48)} ${spec.help}`;
  });
  return `${usage}\n\nFlags:\n${lines.join("\n")}\n`;
}
