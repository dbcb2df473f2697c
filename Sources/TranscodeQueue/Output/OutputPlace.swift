import Foundation

/// Where one job's output goes, reached through folders opened without following links
/// (`DirectoryHandle`), so that the output's parent swapped for a symbolic link after the job
/// was planned is refused, and every removal, write and rename lands under the output root.
final class OutputPlace {
    /// The output folder's name in its parent.
    let name: String
    /// The output's absolute path as planned (for messages).
    let path: String
    private let root: String
    private let parentComponents: [String]
    /// The parent folder, when it exists.
    private var parent: DirectoryHandle?
    private let layout: OutputLayout

    /// Opens the output's parent folder if it exists.
    /// - Throws: `DirectoryHandle.Problem`: `.symbolicLink` when a folder on the way is now a
    ///   link, `.system` when it cannot be opened (a parent that is missing or a file is not an
    ///   error here: nothing is at the output, and writing it fails later).
    init(plan: JobPlan, layout: OutputLayout) throws(DirectoryHandle.Problem) {
        let components = plan.outputKey.split(separator: "/").map(String.init)
        name = components.last ?? plan.outputKey
        path = plan.outputPath
        root = layout.root.path
        parentComponents = Array(components.dropLast())
        self.layout = layout
        do {
            parent = try DirectoryHandle.open(root: root, components: parentComponents, create: false)
        } catch {
            switch error {
            case .missing, .notAFolder: parent = nil
            case .symbolicLink, .system: throw error
            }
        }
    }

    /// The output folder as a path through the opened parent (the planned path when the parent
    /// does not exist yet, in which case nothing is there).
    var url: URL { URL(fileURLWithPath: parent?.descriptorPath(name) ?? path) }

    /// What is at the output.
    func inspect(jobId: String) -> OutputLayout.State {
        guard let parent else { return .absent }
        return layout.inspect(outputPath: parent.descriptorPath(name), jobId: jobId)
    }

    /// Removes whatever is at the output (the caller has checked it is not complete).
    /// - Returns: true when something was removed.
    @discardableResult
    func remove() throws(DirectoryHandle.Problem) -> Bool {
        guard let parent, parent.kind(of: name) != nil else { return false }
        try parent.removeTree(name)
        return true
    }

    /// The output folder to write in place (progressive jobs), its parent made if missing.
    func inPlace() throws(DirectoryHandle.Problem) -> URL {
        URL(fileURLWithPath: try openParent().descriptorPath(name))
    }

    /// Renames the finished folder `staged` (in the worker's work folder, same file system) to the
    /// output, replacing a leftover there, never another job's complete output.
    /// - Returns: the output folder, as a path through its opened parent.
    /// - Throws: `DirectoryHandle.Problem`; `OutputClaims.Conflict` when a complete output of
    ///   another job appeared at the output meanwhile.
    func moveIntoPlace(_ staged: URL, jobId: String) throws -> URL {
        let parent = try openParent()
        if case .otherJob(let other) = layout.inspect(outputPath: parent.descriptorPath(name), jobId: jobId) {
            throw OutputClaims.Conflict(message: "\(path) now holds the complete output of job \"\(other)\"")
        }
        try parent.removeTree(name)
        try parent.moveHere(from: staged.path, to: name)
        return URL(fileURLWithPath: parent.descriptorPath(name))
    }

    private func openParent() throws(DirectoryHandle.Problem) -> DirectoryHandle {
        if let parent { return parent }
        let opened = try DirectoryHandle.open(root: root, components: parentComponents, create: true)
        parent = opened
        return opened
    }
}
