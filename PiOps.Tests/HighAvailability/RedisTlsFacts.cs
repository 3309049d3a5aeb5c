using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PiOps.Shared.Redis;
using PiOps.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace PiOps.Tests.HighAvailability;

/// <summary>
/// REDIS_TLS and REDIS_TLS_CA_FILE against a real redis-server listening only on a TLS port, its certificate signed by a
/// CA made for the test: trusted through the CA file, refused without it, and refused with another CA's file.
/// </summary>
public sealed class RedisTlsFacts : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("piops-redis-tls-").FullName;
    private readonly int _port = FreePort.Next();
    private Process? _server;

    private string CaFile => Path.Combine(_dir, "ca.crt");

    public async Task InitializeAsync()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=piops test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        // A leaf may not outlive its issuer, even by the milliseconds between two clock reads (the certificate keeps
        // whole seconds): it ends a minute before the CA.
        var notBefore = DateTimeOffset.UtcNow.AddMinutes(-5);
        var notAfter = DateTimeOffset.UtcNow.AddHours(1);
        using var ca = caRequest.CreateSelfSigned(notBefore, notAfter);

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = serverRequest.Create(ca, notBefore, new DateTimeOffset(ca.NotAfter).AddMinutes(-1), [1, 2, 3, 4]);

        await File.WriteAllTextAsync(CaFile, ca.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(_dir, "server.crt"), server.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(_dir, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());

        // Only the TLS port: a client that does not speak TLS, or does not trust the certificate, gets nowhere.
        var psi = new ProcessStartInfo(File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server")
        {
            ArgumentList =
            {
                "--port", "0", "--tls-port", _port.ToString(), "--bind", "127.0.0.1", "--dir", _dir, "--save", "",
                "--appendonly", "no", "--tls-cert-file", Path.Combine(_dir, "server.crt"), "--tls-key-file", Path.Combine(_dir, "server.key"),
                "--tls-ca-cert-file", CaFile, "--tls-auth-clients", "no",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            _server = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not installed: run ./test.sh, which installs it (apt-get install redis-server)", ex);
        }

        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        await Eventually.WaitAsync(async () =>
        {
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, _port);
                return true;
            }
            catch (SocketException)
            {
                return _server.HasExited ? throw new InvalidOperationException($"redis-server exited with {_server.ExitCode}: does this build lack TLS?") : false;
            }
        }, TimeSpan.FromSeconds(10), "redis-server listening on its TLS port");
    }

    public async Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<(bool Connected, string Ping)> ConnectAsync(RedisSettings settings)
    {
        var options = settings.ToConfigurationOptions("piops-tls-test");
        options.ConnectRetry = 1;
        options.ConnectTimeout = 3000;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        var connecting = ConnectionMultiplexer.ConnectAsync(options);
        await using var mux = await connecting.Within(TimeSpan.FromSeconds(15), "connecting");
        try
        {
            var ping = mux.GetDatabase().PingAsync();
            await ping.Within(TimeSpan.FromSeconds(10), "PING");
            return (mux.IsConnected, "PONG");
        }
        catch (RedisConnectionException ex)
        {
            return (mux.IsConnected, ex.Message);
        }
    }

    [Fact]
    public async Task Tls_WithTheCaFile_ConnectsAndAnswers()
    {
        var (connected, ping) = await ConnectAsync(new RedisSettings { Host = "127.0.0.1", Port = _port, Tls = true, TlsCaFile = CaFile });

        Assert.True(connected);
        Assert.Equal("PONG", ping);
    }

    [Fact]
    public async Task Tls_WithoutTheCaFile_IsRefused_TheMachineDoesNotKnowTheCa()
    {
        var (connected, ping) = await ConnectAsync(new RedisSettings { Host = "127.0.0.1", Port = _port, Tls = true });

        Assert.False(connected);
        Assert.NotEqual("PONG", ping);
    }

    [Fact]
    public async Task Tls_WithAnotherCasFile_IsRefused()
    {
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var other = new CertificateRequest("CN=piops test CA", otherKey, HashAlgorithmName.SHA256);
        other.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var otherCa = other.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        string otherFile = Path.Combine(_dir, "other-ca.crt");
        await File.WriteAllTextAsync(otherFile, otherCa.ExportCertificatePem());

        var (connected, ping) = await ConnectAsync(new RedisSettings { Host = "127.0.0.1", Port = _port, Tls = true, TlsCaFile = otherFile });

        Assert.False(connected);
        Assert.NotEqual("PONG", ping);
    }

    [Fact]
    public async Task WithoutTls_TheTlsPortAnswersNothing()
    {
        var (connected, ping) = await ConnectAsync(new RedisSettings { Host = "127.0.0.1", Port = _port });

        Assert.False(connected);
        Assert.NotEqual("PONG", ping);
    }
}
