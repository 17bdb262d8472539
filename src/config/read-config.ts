import { FerryError } from "../core/errors.ts";
import { type ModelConfig, ModelConfigSchema } from "../gen/model_config_pb.ts";
import { parseTextFormat } from "./text-format/parse.ts";
import { TextFormatError } from "./text-format/tokenizer.ts";

/**
 * Parses config.pbtxt text; errors read
 * "config: models/x/config.pbtxt:12:5: unknown field 'max_batch' in ModelConfig".
 */
export function readConfigText(text: string, source: string): ModelConfig {
  try {
    return parseTextFormat(ModelConfigSchema, text);
  } catch (error) {
    if (error instanceof TextFormatError) {
      throw new FerryError(
        "INVALID_ARGUMENT",
        "config",
        `${source}:${error.line}:${error.column}: ${error.reason}`,
      );
    }
    throw FerryError.from(error, "config");
  }
}
