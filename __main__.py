"""Entry point of the Pulumi program (`pulumi preview` / `pulumi up`)."""

import program

program.main()
