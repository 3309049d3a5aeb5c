using PiOps.Web.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddPiOps();
var app = builder.Build();
app.UsePiOps();
app.Run();

/// <summary>Entry point type, visible to the tests.</summary>
public partial class Program;
