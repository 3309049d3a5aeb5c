using System.Net;
using System.Text.RegularExpressions;

namespace PiOps.Tests.Security;

/// <summary>
/// A browser's sign-in without the browser: the sign-in form posted as a browser posts it (with its antiforgery
/// token), the cookie kept, and sign-out posted from a page's form. <see cref="Cookie"/> is the raw header to replay.
/// </summary>
public sealed partial class CookieSession : IDisposable
{
    private readonly CookieContainer _jar = new();
    private readonly Uri _base;

    private CookieSession(string baseAddress)
    {
        _base = new Uri(baseAddress);
        Client = new HttpClient(new HttpClientHandler { CookieContainer = _jar, AllowAutoRedirect = false })
        {
            BaseAddress = _base, Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public HttpClient Client { get; }

    /// <summary>The "Cookie" header this session sends now.</summary>
    public string Cookie => _jar.GetCookieHeader(_base);

    public static async Task<CookieSession> SignInAsync(string baseAddress, string user, string password)
    {
        var session = new CookieSession(baseAddress);
        string form = await session.Client.GetStringAsync("/signin");
        var response = await session.Client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = Token(form),
            ["Input.UserName"] = user,
            ["Input.Password"] = password,
        }));
        if (!session.Cookie.Contains("piops.auth=", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Signing in as {user} gave no cookie: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        return session;
    }

    /// <summary>Signs out as the layout's button does: the form's post with the page's antiforgery token.</summary>
    public async Task<HttpResponseMessage> SignOutAsync()
    {
        string page = await Client.GetStringAsync("/");
        return await Client.PostAsync("/signout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Token(page),
        }));
    }

    /// <summary>A client that sends <paramref name="cookie"/> as it is, whatever the server answers: a replayed cookie.</summary>
    public static HttpClient Replaying(string baseAddress, string cookie)
    {
        var client = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(30),
        };
        client.DefaultRequestHeaders.Add("Cookie", cookie);
        return client;
    }

    /// <summary>The antiforgery token of a page's form.</summary>
    public static string Token(string html) =>
        WebUtility.HtmlDecode(AntiforgeryInput().Match(html) is { Success: true } m ? m.Groups[1].Value
            : throw new InvalidOperationException("The page has no antiforgery token: " + html[..Math.Min(html.Length, 500)]));

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryInput();

    public void Dispose() => Client.Dispose();
}
