// podFailurePolicy matching as in Kubernetes' pkg/controller/job/pod_failure_policy.go: rules are
// tried in order; the first one whose onExitCodes or onPodConditions matches the failed pod decides.
import type { ContainerStatus, Job, Pod, PodFailurePolicyRule } from '../client/types.js';

export interface PolicyMatch {
  /** Set when a FailJob rule matched: the message of the Job's failure condition. */
  failJobMessage?: string;
  /** False when an Ignore rule matched: the failure does not count towards backoff limits. */
  countFailed: boolean;
  action?: PodFailurePolicyRule['action'];
}

export function matchPodFailurePolicy(job: Job, pod: Pod): PolicyMatch {
  const rules = job.spec.podFailurePolicy?.rules;
  if (!rules) return { countFailed: true };
  for (const [index, rule] of rules.entries()) {
    if (rule.onExitCodes) {
      const cs = matchOnExitCodes(pod, rule.onExitCodes);
      if (cs) {
        const message = `Container ${cs.name} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${cs.state.terminated!.exitCode} matching ${rule.action} rule at index ${index}`;
        return decide(rule.action, message);
      }
    } else if (rule.onPodConditions) {
      const cond = (pod.status?.conditions ?? []).find((c) => rule.onPodConditions!.some((p) => p.type === c.type && (p.status ?? 'True') === c.status));
      if (cond) {
        const message = `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${cond.type} matching ${rule.action} rule at index ${index}`;
        return decide(rule.action, message);
      }
    }
  }
  return { countFailed: true };
}

function decide(action: PodFailurePolicyRule['action'], message: string): PolicyMatch {
  switch (action) {
    case 'Ignore':
      return { countFailed: false, action };
    case 'Count':
      return { countFailed: true, action };
    case 'FailJob':
      return { countFailed: true, action, failJobMessage: message };
    case 'FailIndex':
      return { countFailed: true, action };
  }
}

function matchOnExitCodes(pod: Pod, req: NonNullable<PodFailurePolicyRule['onExitCodes']>): ContainerStatus | undefined {
  const lists = [pod.status?.containerStatuses ?? [], pod.status?.initContainerStatuses ?? []];
  for (const list of lists) {
    for (const cs of list) {
      const t = cs.state?.terminated;
      // A container still terminating has no exit code to match; exit code 0 never matches.
      if (!t || t.exitCode === 0) continue;
      if (req.containerName && req.containerName !== cs.name) continue;
      const listed = req.values.includes(t.exitCode);
      if (req.operator === 'In' ? listed : req.operator === 'NotIn' ? !listed : false) return cs;
    }
  }
  return undefined;
}
