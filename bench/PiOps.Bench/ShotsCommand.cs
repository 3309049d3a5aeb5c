using Microsoft.Playwright;
using PiOps.Shared.Queue;
using PiOps.Tests.E2E;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;

namespace PiOps.Bench;

/// <summary>
/// Screenshots of every page, light and dark, at 1280x800, of a dashboard on the embedded default with something in
/// every table (results, dead letters, a Job, a CronJob, log lines), so a reviewer can look at the whole product in a
/// minute. Not a benchmark: it measures nothing. Usage: ./bench/run.sh shots [folder=bench/shots]
/// </summary>
internal static class ShotsCommand
{
    private static readonly string[] Pages = ["/", "/enqueue", "/queue", "/tasks", "/dead-letters", "/workers", "/jobs", "/cronjobs", "/autoscaling", "/logs", "/audit", "/settings"];

    public static async Task<int> RunAsync(string[] args)
    {
        string folder = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine(Repository.Root, "bench", "shots"));
        Directory.CreateDirectory(folder);
        var browser = new BrowserFixture();
        await browser.InitializeAsync();
        try
        {
            await using var dashboard = await DashboardProcess.StartAsync(env: new Dictionary<string, string>
            {
                ["LocalRuntime__InitialReplicas"] = "2",
                ["LocalRuntime__GracePeriod"] = "00:00:10",
            });
            await using var redis = await ConnectionMultiplexer.ConnectAsync(dashboard.RedisConfiguration);
            var keys = new QueueKeys("queue:task");
            await redis.GetDatabase().ListRightPushAsync(keys.Queue,
                [.. Enumerable.Range(1, 20).Select(i => (RedisValue)(i * 1_000_000).ToString()), "5,000", "-3", "pi please"]);

            var setup = await browser.NewPageAsync();
            await LivePage.GoAsync(setup, dashboard.BaseAddress + "/jobs");
            await setup.Locator("[data-testid=job-create]").ClickAsync();
            await LivePage.ExpectRowAsync(setup, "jobs-table", "jobworker");
            await LivePage.GoAsync(setup, dashboard.BaseAddress + "/cronjobs");
            await setup.Locator("[data-testid=cron-create]").ClickAsync();
            await LivePage.ExpectRowAsync(setup, "cronjobs-table", "addwork");
            await LivePage.GoAsync(setup, dashboard.BaseAddress + "/enqueue");
            await redis.GetDatabase().ListRightPushAsync(keys.Queue, [.. Enumerable.Range(1, 200).Select(i => (RedisValue)(i * 50_000L).ToString())]);

            foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
            {
                var context = await browser.Browser.NewContextAsync(new() { ColorScheme = scheme, ViewportSize = new() { Width = 1280, Height = 800 } });
                var page = await context.NewPageAsync();
                page.SetDefaultNavigationTimeout(60_000);
                foreach (var path in Pages)
                {
                    await LivePage.GoAsync(page, dashboard.BaseAddress + path);
                    await Task.Delay(1500); // let live charts and tables fill in; a picture, not a test
                    string name = (path == "/" ? "overview" : path.Trim('/')) + "-" + scheme.ToString().ToLowerInvariant() + ".png";
                    await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name) });
                    Console.WriteLine(Path.Combine(folder, name));
                }

                // The command palette open over the Overview, with a query typed.
                await LivePage.GoAsync(page, dashboard.BaseAddress + "/");
                await page.Locator("html[data-palette=ready]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
                await page.Keyboard.PressAsync("Control+k");
                await page.Locator("[data-testid=palette-input]").WaitForAsync();
                await page.Keyboard.TypeAsync("pi");
                await page.Locator("[data-testid=palette-option]").First.WaitForAsync();
                string palette = "palette-" + scheme.ToString().ToLowerInvariant() + ".png";
                await page.ScreenshotAsync(new() { Path = Path.Combine(folder, palette) });
                Console.WriteLine(Path.Combine(folder, palette));

                await context.CloseAsync();
            }

            return 0;
        }
        finally
        {
            await browser.DisposeAsync();
        }
    }
}
