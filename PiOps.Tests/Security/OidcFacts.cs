using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>
/// OpenID Connect sign-in against a loopback identity provider that serves its discovery document: the dashboard
/// sends the browser to the provider's authorize endpoint with its client id, the code flow and PKCE.
/// </summary>
public sealed class OidcFacts(RedisServer server) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task SignInWithOidc_RedirectsToTheProvider_WithCodeFlowAndPkce()
    {
        await using var provider = await StartProviderAsync();
        await using var app = await DashboardApp.StartAsync(server, TestRedisServer.NewQueueName(), new Dictionary<string, string?>
        {
            ["Auth:Oidc:Authority"] = provider.Address,
            ["Auth:Oidc:ClientId"] = "piops-dashboard",
            ["Auth:Oidc:ClientSecret"] = "not-used-here",
            ["Auth:Oidc:RequireHttpsMetadata"] = "false",
        });
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(app.BaseAddress) };

        string signIn = await client.GetStringAsync("/signin?ReturnUrl=%2Fjobs");
        var challenge = await client.GetAsync("/signin/oidc?returnUrl=%2Fjobs");

        Assert.Contains("data-testid=\"signin-oidc\"", signIn);
        Assert.DoesNotContain("data-testid=\"signin-form\"", signIn);
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var location = challenge.Headers.Location!;
        Assert.StartsWith(provider.Address + "/authorize?", location.ToString());
        var query = System.Web.HttpUtility.ParseQueryString(location.Query);
        Assert.Equal("piops-dashboard", query["client_id"]);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Contains("openid", query["scope"]);
        Assert.Equal(app.BaseAddress + "/signin-oidc", query["redirect_uri"]);
    }

    private sealed class Provider(WebApplication app, string address) : IAsyncDisposable
    {
        public string Address { get; } = address;

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }

    private static async Task<Provider> StartProviderAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        string? self = null;
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = self!,
            ["authorization_endpoint"] = self + "/authorize",
            ["token_endpoint"] = self + "/token",
            ["jwks_uri"] = self + "/jwks",
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            ["code_challenge_methods_supported"] = new[] { "S256" },
        }));
        app.MapGet("/jwks", () => Results.Json(new { keys = Array.Empty<object>() }));
        await app.StartAsync();
        self = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Provider(app, self);
    }
}
