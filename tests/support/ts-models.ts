import type { TestRepository } from "./model-repo.ts";

/** Adds a TypeScript model: config.pbtxt (backend "typescript" is added) and 1/model.ts. */
export function addTsModel(repo: TestRepository, name: string, config: string, code: string): TestRepository {
  return repo.addModel(name, {
    config: `name: "${name}" backend: "typescript" ${config}`,
    extra: { "1/model.ts": code },
  });
}

export const FP32_IO = `input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ] output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]`;

/** A model body that answers OUTPUT0 = f(INPUT0) per request; `f` sees (x, request, index). */
export function mapModel(body: string, extra = ""): string {
  return `export default class {
  ${extra}
  async execute(requests) {
    return Promise.all(requests.map(async (request, index) => {
      const input = request.inputs.INPUT0;
      ${body}
    }));
  }
}
`;
}
