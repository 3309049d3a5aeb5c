using k8s;
using k8s.Models;
using PiOps.Web.Kubernetes;

namespace PiOps.Web.Workloads;

/// <summary>The batch/v1 Job a spec stands for, as YAML: what `kubectl create -f job.yaml` would be given.</summary>
public static class JobYaml
{
    /// <summary>The label the local runtime's previews carry: the chart's and the Kubernetes runtime's default.</summary>
    private static readonly (string Key, string Value) Managed = new KubernetesOptions().ManagedLabelPair;

    public static string Render(JobSpec spec, string image, string redisHost, string redisPort, string queueName) =>
        Render(Manifests.Job(spec, new PodSettings(image, redisHost, redisPort, queueName, Managed.Key, Managed.Value)));

    /// <summary>The exact object a runtime creates, serialized by the client library.</summary>
    public static string Render(V1Job job) => KubernetesYaml.Serialize(job);
}
