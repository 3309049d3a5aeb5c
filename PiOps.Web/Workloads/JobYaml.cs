using k8s;
using k8s.Models;

namespace PiOps.Web.Workloads;

/// <summary>The batch/v1 Job a spec stands for, as YAML: what `kubectl create -f job.yaml` would be given.</summary>
public static class JobYaml
{
    /// <summary>The exact object a runtime creates, serialized by the client library.</summary>
    public static string Render(V1Job job) => KubernetesYaml.Serialize(job);

    /// <summary>
    /// Reads pasted YAML as kubectl create -f would: a batch/v1 Job whose every field the API's model knows (an
    /// unknown field is refused, as kubectl's strict field validation does). Bad YAML throws a sentence.
    /// </summary>
    public static V1Job Parse(string? yaml)
    {
        if (string.IsNullOrWhiteSpace(yaml))
        {
            throw new OperatorActionException("Paste a Job's YAML first (apiVersion: batch/v1, kind: Job). Nothing was created.");
        }

        V1Job job;
        try
        {
            var head = KubernetesYaml.Deserialize<KubernetesObject>(yaml, strict: false);
            if (head?.Kind != "Job" || head.ApiVersion != "batch/v1")
            {
                throw new OperatorActionException($"This YAML is a {(string.IsNullOrEmpty(head?.Kind) ? "document without a kind" : head.Kind)}{(string.IsNullOrEmpty(head?.ApiVersion) ? "" : " (" + head.ApiVersion + ")")}: only a batch/v1 Job can be created here. Nothing was created.");
            }

            job = KubernetesYaml.Deserialize<V1Job>(yaml, strict: true);
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            // Strict reading names the first field the Job model does not have (kubectl's "unknown field").
            string detail = ex.InnerException?.Message ?? ex.Message;
            throw new OperatorActionException($"The YAML is not a valid Job ({ex.Start.Line}:{ex.Start.Column}): {detail} Nothing was created.");
        }


        if (string.IsNullOrWhiteSpace(job.Metadata?.Name))
        {
            throw new OperatorActionException("The Job has no metadata.name: give it one. Nothing was created.");
        }

        return job;
    }
}
