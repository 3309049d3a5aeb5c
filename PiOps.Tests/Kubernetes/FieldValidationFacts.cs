using System.Net;
using System.Text;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Workloads;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// Every object PiOps creates or replaces decodes into the API's types with no field left over: a field the API does
/// not know is dropped by a real API server (with a warning nobody reads), so a typo there would silently lose a setting.
/// </summary>
public sealed class FieldValidationFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly string JobsPath = $"/apis/batch/v1/namespaces/{KubeApiDouble.Namespace}/jobs";

    private const string JobWithATypo = """
        {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"typo"},
         "spec":{"backofLimit":2,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"i"}]}}}}
        """;

    [Fact]
    public async Task TheDouble_RefusesAnUnknownFieldUnderStrict_AndDropsItWithAWarningOtherwise()
    {
        await using var api = await KubeApiDouble.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(api.Address) };

        using var strict = await http.PostAsync(JobsPath + "?fieldValidation=Strict", new StringContent(JobWithATypo, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, strict.StatusCode);
        var status = System.Text.Json.Nodes.JsonNode.Parse(await strict.Content.ReadAsStringAsync())!;
        Assert.Equal("Job in version \"v1\" cannot be handled as a Job: strict decoding error: unknown field \"spec.backofLimit\"",
            status["message"]!.GetValue<string>());
        Assert.Equal("BadRequest", status["reason"]!.GetValue<string>());
        Assert.Null(api.Get("jobs", "typo"));

        using var warn = await http.PostAsync(JobsPath, new StringContent(JobWithATypo, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, warn.StatusCode);
        Assert.Equal("299 - \"unknown field \\\"spec.backofLimit\\\"\"", warn.Headers.NonValidated["Warning"].ToString());
        Assert.Null(api.Get("jobs", "typo")!["spec"]!["backofLimit"]);
        Assert.Equal(["POST jobs: spec.backofLimit"], api.DroppedFields);
    }

    [Fact]
    public async Task EveryCreateAndReplacePiOpsSends_HasNoFieldTheApiWouldDrop()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);
        var runtime = cluster.Runtime;

        foreach (var (_, spec) in JobSpec.Templates)
        {
            await runtime.CreateJobAsync(spec);
        }

        await runtime.CreateCronJobAsync(CronJobSpec.BookAddWork with { TimeZone = "Europe/Berlin", StartingDeadlineSeconds = 300 });
        await Eventually.WaitAsync(() => runtime.Current.Jobs.Count >= JobSpec.Templates.Count && runtime.Current.CronJobs.Count == 1, Wait,
            "PiOps to see its Jobs and CronJob");
        await runtime.RunCronJobNowAsync(CronJobSpec.BookAddWork.Name);
        await runtime.RerunJobAsync(JobSpec.Templates[0].Spec.Name);
        await runtime.SetAutoscalerAsync(new AutoscalerSpec(true, 1, 4, 50, 20, 120));
        await runtime.CreateJobFromYamlAsync(KubernetesRuntimeFacts.ValidYaml);

        Assert.True(cluster.Api.Requests("create jobs") >= JobSpec.Templates.Count + 3, "the Jobs were created");
        Assert.True(cluster.Api.Requests("create horizontalpodautoscalers") == 1, "the HPA was created");
        Assert.Empty(cluster.Api.DroppedFields);
    }
}
