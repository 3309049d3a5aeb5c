using System.Net;
using System.Net.Sockets;

namespace PiOps.Tests.Infrastructure;

public static class FreePort
{
    public static int Next()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>
    /// Waits until a server just started accepts connections on its loopback port. A StackExchange.Redis client that
    /// connects before then waits out its whole connect timeout (5 s) before it retries, once per server started: about
    /// 5 minutes of the suite went to that.
    /// </summary>
    public static Task WaitUntilListeningAsync(int port, TimeSpan timeout, Func<string> describe) =>
        Eventually.WaitAsync(async () =>
        {
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, timeout, () => $"a server listening on 127.0.0.1:{port}: {describe()}");
}
