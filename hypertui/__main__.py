from hypertui.cli import main

raise SystemExit(main())
