using Microsoft.Playwright;
using PiOps.Tests.E2E;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Kubernetes;

/// <summary>The pages against the Kubernetes API double, from the browser: YAML create, re-run, delete, run now, suspend, and the API's errors.</summary>
[Collection(HeavyLanes.First)]
public sealed class ClusterEndToEndFacts(BrowserFixture browser, RedisServer server) : IClassFixture<BrowserFixture>, IClassFixture<RedisServer>
{
    private static string JobYaml(string name, string extra = "") => $"""
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {name}
        spec:
          parallelism: 1{extra}
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: pi-container
                image: piops-worker:0.1.0
                args: ["add-tasks", "--count", "3"]
        """;

    [Fact]
    public async Task Jobs_FromYaml_Rerun_Delete_CronJobRunNowAndSuspend_AndTheApisErrorsAsSentences()
    {
        await using var cluster = await ClusterDashboard.StartAsync(server);
        var page = await browser.NewPageAsync();
        await LivePage.GoAsync(page, cluster.App.BaseAddress + "/jobs");
        await Assertions.Expect(page.GetByText("namespace piops-test").First).ToBeVisibleAsync();

        var yaml = page.Locator("textarea[data-testid=job-yaml-input]");
        var create = page.Locator("[data-testid=job-yaml-create]");
        var errors = page.Locator("[data-testid=job-yaml-errors]");
        await yaml.FillAsync("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n");
        await create.ClickAsync();
        await Assertions.Expect(errors).ToContainTextAsync("only a batch/v1 Job");
        await yaml.FillAsync(JobYaml("yamljob", "\n  parallelizm: 2"));
        await create.ClickAsync();
        await Assertions.Expect(errors).ToContainTextAsync("parallelizm");
        await yaml.FillAsync(JobYaml("Bad_Name"));
        await create.ClickAsync();
        await Assertions.Expect(errors).ToContainTextAsync("metadata.name");
        Assert.Null(cluster.Api.Get("jobs", "Bad_Name"));

        await yaml.FillAsync(JobYaml("yamljob"));
        await create.ClickAsync();
        var row = page.Locator("[data-testid=jobs-table] tbody tr").Filter(new() { HasText = "yamljob" });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await create.ClickAsync();
        await Assertions.Expect(errors).ToContainTextAsync("already exists");

        string firstUid = cluster.Api.Get("jobs", "yamljob")!["metadata"]!["uid"]!.GetValue<string>();
        await LivePage.ClickOpeningDialogAsync(page, row.Locator("[data-testid=job-rerun]"), "Re-run yamljob?");
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Re-run" }).ClickAsync();
        await Eventually.WaitAsync(() => cluster.Api.Get("jobs", "yamljob")?["metadata"]?["uid"]?.GetValue<string>() is { } uid && uid != firstUid,
            TimeSpan.FromSeconds(30), "a fresh Job of the same name");

        await LivePage.ClickOpeningDialogAsync(page, row.Locator("[data-testid=job-delete]"), "Delete yamljob?");
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        // Background propagation: its pods went too.
        await Eventually.WaitAsync(() => cluster.Api.Versions("pods").Keys.All(p => !p.StartsWith("yamljob", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the Job's pods to go with it");

        await LivePage.GoAsync(page, cluster.App.BaseAddress + "/cronjobs");
        await page.Locator("[data-testid=cron-create]").ClickAsync();
        var cron = page.Locator("[data-testid=cronjobs-table] tbody tr").Filter(new() { HasText = "addwork" });
        await Assertions.Expect(cron).ToHaveCountAsync(1);
        await cron.Locator("[data-testid=cron-run-now]").ClickAsync();
        await Assertions.Expect(cron.Locator("[data-testid=cron-job]")).ToContainTextAsync("addwork-manual-", new() { Timeout = 30_000 });
        string manual = cluster.Api.Versions("jobs").Keys.Single(j => j.StartsWith("addwork-manual-", StringComparison.Ordinal));
        Assert.Equal("manual", cluster.Api.Get("jobs", manual)!["metadata"]!["annotations"]!["cronjob.kubernetes.io/instantiate"]!.GetValue<string>());
        await cron.Locator("[data-testid=cron-suspend]").ClickAsync();
        await Assertions.Expect(cron.Locator("[data-testid=cron-suspended]")).ToBeVisibleAsync();
        Assert.True(cluster.Api.Get("cronjobs", "addwork")!["spec"]!["suspend"]!.GetValue<bool>());

        // A refusal by the cluster's RBAC reads as a sentence naming what is missing.
        cluster.Api.Forbid("patch", "deployments/scale");
        await LivePage.GoAsync(page, cluster.App.BaseAddress + "/workers");
        await page.Locator("input[data-testid=scale-replicas]").FillAsync("3");
        await page.Locator("[data-testid=scale]").ClickAsync();
        await Assertions.Expect(page.GetByText("deployments/scale").First).ToBeVisibleAsync();
    }

    [Fact]
    public async Task TheNamespaceChosenInTheAppBar_IsTheOneThePagesShowAndCreateIn()
    {
        var api = await KubeApiDouble.StartAsync();
        api.AddNamespace("team-b", workers: 1);
        // As an operator installs it for two namespaces: the chart's Role and RoleBinding in each.
        api.UseRbac(KubeApiDouble.ChartRbac("team-b"), KubeApiDouble.ChartReleaseNamespace);
        await using var cluster = await ClusterDashboard.StartAsync(server, new Dictionary<string, string?>
        {
            ["Kubernetes:Namespaces:0"] = KubeApiDouble.Namespace,
            ["Kubernetes:Namespaces:1"] = "team-b",
        }, api);
        var page = await browser.NewPageAsync();
        await LivePage.GoAsync(page, cluster.App.BaseAddress + "/jobs");
        await Assertions.Expect(page.GetByText($"namespace {KubeApiDouble.Namespace}").First).ToBeVisibleAsync();

        await page.Locator(".piops-namespace").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = "team-b" }).ClickAsync();
        await Assertions.Expect(page.GetByText("namespace team-b").First).ToBeVisibleAsync();

        await page.Locator("textarea[data-testid=job-yaml-input]").FillAsync(JobYaml("in-team-b"));
        await page.Locator("[data-testid=job-yaml-create]").ClickAsync();
        var row = page.Locator("[data-testid=jobs-table] tbody tr").Filter(new() { HasText = "in-team-b" });
        await Assertions.Expect(row).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        Assert.NotNull(api.Get("jobs", "in-team-b", "team-b"));
        Assert.Null(api.Get("jobs", "in-team-b"));

        // Another page of the same circuit stays in team-b: its one worker pod, not the default namespace's two.
        await page.GetByRole(AriaRole.Link, new() { Name = "Workers" }).First.ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=pods-table] tbody tr")).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        // A fresh page opens in the default namespace again: the choice was the circuit's only.
        var other = await browser.NewPageAsync();
        await LivePage.GoAsync(other, cluster.App.BaseAddress + "/jobs");
        await Assertions.Expect(other.GetByText($"namespace {KubeApiDouble.Namespace}").First).ToBeVisibleAsync();
        await Assertions.Expect(other.Locator("[data-testid=jobs-table] tbody tr").Filter(new() { HasText = "in-team-b" })).ToHaveCountAsync(0);
    }
}
