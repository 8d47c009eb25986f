import CompSegCLI

CompSegTool.main()
