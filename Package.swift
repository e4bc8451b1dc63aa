// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "checkpointfs",
    products: [
        .library(name: "CheckpointFS", targets: ["CheckpointFS"]),
        .executable(name: "checkpointfs", targets: ["CheckpointTool"]),
    ],
    targets: [
        .systemLibrary(
            name: "CFuse3",
            pkgConfig: "fuse3",
            providers: [.apt(["libfuse3-dev", "fuse3"])]
        ),
        .systemLibrary(
            name: "CArchive",
            pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]
        ),
        .systemLibrary(
            name: "CSELinux",
            pkgConfig: "libselinux",
            providers: [.apt(["libselinux1-dev"])]
        ),
        .target(name: "CSystem"),
        .target(
            name: "CheckpointFS",
            dependencies: ["CSystem", "CArchive", "CSELinux"]
        ),
        .target(
            name: "CheckpointMount",
            dependencies: ["CheckpointFS", "CFuse3", "CSystem"]
        ),
        .executableTarget(
            name: "CheckpointTool",
            dependencies: ["CheckpointFS", "CheckpointMount", "CSystem"]
        ),
        .testTarget(
            name: "CheckpointFSTests",
            dependencies: ["CheckpointFS", "CheckpointMount", "CSystem"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
