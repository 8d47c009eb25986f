/// compseg's version, as `compseg --version`, reports and written files name it.
public let compsegVersion = "0.1.0"
