using WebApp;

// dotnet run --project samples/WebApp, then open http://localhost:5000/jobs/ and sign in.
// The dashboard password comes from configuration (Dashboard:Password, e.g. the environment variable Dashboard__Password);
// without one the app makes a random password at start and logs it.
var app = WebAppHost.Build(args);
app.Run();
