using k8s;
using k8s.Models;

namespace PiOps.Web.Workloads;

/// <summary>The batch/v1 CronJob a spec stands for, as YAML: what `kubectl create -f cronjob.yaml` would be given.</summary>
public static class CronJobYaml
{
    /// <summary>The exact object a runtime creates, serialized by the client library (as <see cref="JobYaml"/> does for Jobs).</summary>
    public static string Render(V1CronJob cronJob) => KubernetesYaml.Serialize(cronJob);
}
