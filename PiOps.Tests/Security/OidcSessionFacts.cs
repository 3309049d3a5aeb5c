using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>
/// An OpenID Connect sign-in, through the whole code flow against a loopback provider that signs its ID tokens, gets a
/// session that ends like a password sign-in's: by sign-out, and when the group mapping no longer gives the role.
/// </summary>
public sealed class OidcSessionFacts(RedisServer server) : IClassFixture<RedisServer>
{
    private readonly string _queue = TestRedisServer.NewQueueName();

    private static Dictionary<string, string?> Settings(string authority, string opsRole) => new()
    {
        ["Auth:Oidc:Authority"] = authority,
        ["Auth:Oidc:ClientId"] = "piops-dashboard",
        ["Auth:Oidc:ClientSecret"] = "secret",
        ["Auth:Oidc:RequireHttpsMetadata"] = "false",
        ["Auth:Oidc:Roles:ops"] = opsRole,
        ["Auth:Oidc:DefaultRole"] = "",
    };

    [Fact]
    public async Task OidcSignIn_SignOutEndsTheSession_TheOldCookieIs401()
    {
        await using var provider = await Provider.StartAsync(groups: ["ops"]);
        await using var app = await DashboardApp.StartAsync(server, _queue, Settings(provider.Address, "Operator"));
        var browser = new Browser(app.BaseAddress);
        await browser.SignInWithOidcAsync(provider);
        string cookie = browser.CookieHeader;
        Assert.Equal(HttpStatusCode.Created, (await browser.SendAsync(HttpMethod.Post, "/api/tasks", JsonContent.Create(new { iterations = 10 }))).StatusCode);

        var signOut = await browser.SignOutAsync();

        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        using var replay = CookieSession.Replaying(app.BaseAddress, cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.PostAsJsonAsync("/api/tasks", new { iterations = 10 })).StatusCode);
    }

    [Fact]
    public async Task OidcSignIn_GroupMappedToALowerRoleAfterARestart_TheOldCookieIs401()
    {
        await using var provider = await Provider.StartAsync(groups: ["ops"]);
        string cookie;
        await using (var app = await DashboardApp.StartAsync(server, _queue, Settings(provider.Address, "Operator")))
        {
            var browser = new Browser(app.BaseAddress);
            await browser.SignInWithOidcAsync(provider);
            cookie = browser.CookieHeader;
        }

        await using var lowered = await DashboardApp.StartAsync(server, _queue, Settings(provider.Address, "Viewer"));
        using var replay = CookieSession.Replaying(lowered.BaseAddress, cookie);

        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.PostAsJsonAsync("/api/tasks", new { iterations = 10 })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync("/api/queue")).StatusCode);
    }

    /// <summary>
    /// A browser's cookie handling by hand: the OIDC correlation and nonce cookies are Secure (SameSite=None), which
    /// a browser sends to http://127.0.0.1 but .NET's CookieContainer does not.
    /// </summary>
    private sealed class Browser(string baseAddress)
    {
        private readonly Dictionary<string, string> _cookies = [];
        private readonly HttpClient _client = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(30),
        };

        public string CookieHeader => string.Join("; ", _cookies.Select(c => c.Key + "=" + c.Value));

        public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = content };
            if (_cookies.Count > 0)
            {
                request.Headers.Add("Cookie", CookieHeader);
            }

            var response = await _client.SendAsync(request);
            foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            {
                string pair = header.Split(';')[0];
                int eq = pair.IndexOf('=');
                string name = pair[..eq], value = pair[(eq + 1)..];
                if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
                {
                    _cookies.Remove(name);
                }
                else
                {
                    _cookies[name] = value;
                }
            }

            return response;
        }

        public async Task SignInWithOidcAsync(Provider provider)
        {
            var challenge = await SendAsync(HttpMethod.Get, "/signin/oidc?returnUrl=%2Fjobs");
            Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
            var query = System.Web.HttpUtility.ParseQueryString(challenge.Headers.Location!.Query);
            string code = provider.Authorize(query["nonce"]!);
            // The provider answers the authorize request with a form the browser posts back (response_mode=form_post).
            var callback = await SendAsync(HttpMethod.Post, "/signin-oidc", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["code"] = code,
                ["state"] = query["state"]!,
            }));
            Assert.True(callback.StatusCode == HttpStatusCode.Redirect && _cookies.ContainsKey("piops.auth"),
                $"the callback answered {(int)callback.StatusCode}: {await callback.Content.ReadAsStringAsync()}");
        }

        public async Task<HttpResponseMessage> SignOutAsync()
        {
            string page = await (await SendAsync(HttpMethod.Get, "/")).Content.ReadAsStringAsync();
            var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
            return await SendAsync(HttpMethod.Post, "/signout", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
            }));
        }
    }

    /// <summary>A loopback OpenID provider: discovery, keys, and a token endpoint that signs an ID token for each code.</summary>
    private sealed class Provider(WebApplication app, string address, RsaSecurityKey key, string[] groups) : IAsyncDisposable
    {
        private readonly Dictionary<string, string> _nonces = [];

        public string Address { get; } = address;

        /// <summary>What the authorize endpoint does for a user who signs in: a code bound to the request's nonce.</summary>
        public string Authorize(string nonce)
        {
            string code = Guid.NewGuid().ToString("N");
            lock (_nonces)
            {
                _nonces[code] = nonce;
            }

            return code;
        }

        private IResult Token(string code)
        {
            string nonce;
            lock (_nonces)
            {
                if (!_nonces.Remove(code, out nonce!))
                {
                    return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
                }
            }

            string accessToken = Guid.NewGuid().ToString("N");
            var claims = new List<Claim>
            {
                new("sub", "u-42"), new("preferred_username", "olivia"), new("nonce", nonce),
                new("at_hash", Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(accessToken))[..16])),
            };
            claims.AddRange(groups.Select(g => new Claim("groups", g)));
            string idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = Address, Audience = "piops-dashboard", Subject = new ClaimsIdentity(claims),
                IssuedAt = DateTime.UtcNow, NotBefore = DateTime.UtcNow.AddMinutes(-1), Expires = DateTime.UtcNow.AddMinutes(10),
                SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
            });
            return Results.Json(new Dictionary<string, object>
            {
                ["id_token"] = idToken, ["access_token"] = accessToken, ["token_type"] = "Bearer", ["expires_in"] = 600,
            });
        }

        public static async Task<Provider> StartAsync(string[] groups)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "k1" };
            Provider? self = null;
            app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = self!.Address,
                ["authorization_endpoint"] = self.Address + "/authorize",
                ["token_endpoint"] = self.Address + "/token",
                ["jwks_uri"] = self.Address + "/jwks",
                ["response_types_supported"] = new[] { "code" },
                ["subject_types_supported"] = new[] { "public" },
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
                ["code_challenge_methods_supported"] = new[] { "S256" },
            }));
            app.MapGet("/jwks", () =>
            {
                var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(key);
                return Results.Json(new { keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = jwk.Kid, n = jwk.N, e = jwk.E } } });
            });
            app.MapPost("/token", async (HttpRequest request) => self!.Token((await request.ReadFormAsync())["code"].ToString()));
            await app.StartAsync();
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            self = new Provider(app, address, key, groups);
            return self;
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}
