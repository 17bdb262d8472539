/** The server side of a measurement window, from deltas of the statistics extension. */
export interface ServerBreakdown {
  requests: number;
  averageBatch: number;
  /** Average µs per successful request. */
  queueUs: number;
  computeInputUs: number;
  computeInferUs: number;
  computeOutputUs: number;
  requestUs: number;
}

type Stats = Record<string, { count: number; ns: number }>;
interface ModelStat {
  inference_count: number;
  execution_count: number;
  inference_stats: Stats;
}

export async function fetchStats(baseUrl: string, model: string): Promise<ModelStat> {
  const body = (await (await fetch(`${baseUrl}/v2/models/${model}/stats`)).json()) as {
    model_stats: ModelStat[];
  };
  return body.model_stats[0] as ModelStat;
}

export function breakdown(before: ModelStat, after: ModelStat): ServerBreakdown {
  const delta = (stage: string) => {
    const a = after.inference_stats[stage] ?? { count: 0, ns: 0 };
    const b = before.inference_stats[stage] ?? { count: 0, ns: 0 };
    return { count: a.count - b.count, ns: a.ns - b.ns };
  };
  const success = delta("success");
  const perRequest = (stage: string) => {
    const d = delta(stage);
    return d.count > 0 ? Math.round(d.ns / d.count / 100) / 10 : 0;
  };
  const executions = after.execution_count - before.execution_count;
  return {
    requests: success.count,
    averageBatch:
      executions > 0
        ? Math.round(((after.inference_count - before.inference_count) / executions) * 10) / 10
        : 0,
    queueUs: perRequest("queue"),
    computeInputUs: perRequest("compute_input"),
    computeInferUs: perRequest("compute_infer"),
    computeOutputUs: perRequest("compute_output"),
    requestUs: perRequest("success"),
  };
}
