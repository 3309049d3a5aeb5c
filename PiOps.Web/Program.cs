using PiOps.Web.Extensions;
using PiOps.Web.Security;

if (PasswordHashes.RunCommand(args) is { } exitCode)
{
    return exitCode;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddPiOps();
var app = builder.Build();
app.UsePiOps();
app.Run();
return 0;

/// <summary>Entry point type, visible to the tests.</summary>
public partial class Program;
