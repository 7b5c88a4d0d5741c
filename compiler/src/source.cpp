#include "bulkhead/compiler/source.h"

#include <algorithm>

namespace bulkhead {

SourceRange cover(const SourceRange& a, const SourceRange& b) {
    if (!a.valid())
        return b;
    if (!b.valid())
        return a;
    SourceRange r = a;
    r.begin = std::min(a.begin, b.begin);
    r.end = std::max(a.end, b.end);
    return r;
}

std::string_view SourceFile::line(std::uint32_t oneBased) const {
    if (oneBased == 0 || oneBased > lineStarts.size())
        return {};
    std::size_t start = lineStarts[oneBased - 1];
    std::size_t end = oneBased < lineStarts.size() ? lineStarts[oneBased] : text.size();
    std::string_view view(text);
    view = view.substr(start, end - start);
    while (!view.empty() && (view.back() == '\n' || view.back() == '\r'))
        view.remove_suffix(1);
    return view;
}

FileId SourceManager::add(std::string path, std::string text) {
    auto file = std::make_unique<SourceFile>();
    file->path = std::move(path);
    file->text = std::move(text);
    file->lineStarts.push_back(0);
    for (std::size_t i = 0; i < file->text.size(); ++i)
        if (file->text[i] == '\n')
            file->lineStarts.push_back(i + 1);
    files_.push_back(std::move(file));
    return static_cast<FileId>(files_.size() - 1);
}

} // namespace bulkhead
