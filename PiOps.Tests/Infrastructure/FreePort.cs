using System.Net;
using System.Net.Sockets;

namespace PiOps.Tests.Infrastructure;

public static class FreePort
{
    // Ports handed out come from below the kernel's ephemeral range (ip_local_port_range, 32768-60999 on Debian). A
    // port the kernel picked for "any free port" is a port it may hand to the next outgoing connection too (a browser's,
    // a Redis client's) between our probe and the server's bind: CI saw "address already in use" that way. Below that
    // range only a listener asks for a port by number, and a counter keeps two of ours apart.
    private const int First = 20000, Count = 12000;
    private static int _next = Random.Shared.Next(Count);

    public static int Next()
    {
        for (int tries = 0; tries < Count; tries++)
        {
            int port = First + (int)((uint)Interlocked.Increment(ref _next) % Count);
            try
            {
                using var l = new TcpListener(IPAddress.Loopback, port);
                l.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken by someone else's listener; try the next.
            }
        }

        throw new InvalidOperationException($"no free loopback port from {First} to {First + Count - 1}");
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
