"""The contests service's words, Vietnamese first and English second: labels of
contest kinds, rounds, statuses, prize tiers and school boards; the reasons a
ranking gives; error messages; the words of exports and printed documents."""

from __future__ import annotations

from shared.i18n import Catalogue, Message

MESSAGES = Catalogue(
    {
        # --- kinds, rounds, statuses, tiers, boards ---------------------------------
        "contests.kind.technical": {"vi": "Hội thi Sáng tạo kỹ thuật", "en": "Technical Creativity Contest"},
        "contests.kind.youth": {
            "vi": "Cuộc thi Sáng tạo dành cho Thanh thiếu niên, Nhi đồng",
            "en": "Youth and Children's Creativity Contest",
        },
        "contests.round.registration": {"vi": "Đăng ký dự thi", "en": "Registration"},
        "contests.round.submission": {"vi": "Nộp hồ sơ dự thi", "en": "Submission of documents"},
        "contests.round.screening": {"vi": "Sơ khảo", "en": "Screening"},
        "contests.round.scoring": {"vi": "Chung khảo", "en": "Final scoring"},
        "contests.round.decision": {"vi": "Ban Tổ chức quyết định giải", "en": "Organising board's decision"},
        "contests.round.ceremony": {"vi": "Lễ trao giải", "en": "Award ceremony"},
        "contests.round.forwarding": {"vi": "Gửi dự thi toàn quốc", "en": "Forwarding to the national contest"},
        "contests.status.submitted": {"vi": "Đã nộp", "en": "Submitted"},
        "contests.status.screened_in": {"vi": "Qua sơ khảo", "en": "Screened in"},
        "contests.status.screened_out": {"vi": "Không qua sơ khảo", "en": "Screened out"},
        "contests.status.scored": {"vi": "Đã chấm xong", "en": "Scored"},
        "contests.status.awarded": {"vi": "Đạt giải", "en": "Awarded"},
        "contests.status.not_awarded": {"vi": "Không đạt giải", "en": "Not awarded"},
        "contests.status.forwarded": {"vi": "Đã gửi dự thi toàn quốc", "en": "Forwarded to the national contest"},
        "contests.tier.first": {"vi": "Giải Nhất", "en": "First prize"},
        "contests.tier.second": {"vi": "Giải Nhì", "en": "Second prize"},
        "contests.tier.third": {"vi": "Giải Ba", "en": "Third prize"},
        "contests.tier.honourable": {"vi": "Giải Khuyến khích", "en": "Honourable mention"},
        "contests.tier.none": {"vi": "Không trao giải", "en": "No prize"},
        "contests.board.primary": {"vi": "Bảng Tiểu học", "en": "Primary school board"},
        "contests.board.lower_secondary": {"vi": "Bảng Trung học cơ sở", "en": "Lower secondary board"},
        "contests.board.upper_secondary": {"vi": "Bảng Trung học phổ thông", "en": "Upper secondary board"},
        "contests.aggregation.mean": {"vi": "Trung bình cộng", "en": "Mean"},
        "contests.aggregation.median": {"vi": "Trung vị", "en": "Median"},
        "contests.aggregation.trimmed_mean": {
            "vi": "Trung bình sau khi bỏ điểm cao nhất và thấp nhất (từ 4 giám khảo)",
            "en": "Mean without the highest and lowest (from 4 judges)",
        },
        # --- how a ranking explains itself ------------------------------------------
        "contests.reason.reached": {
            "vi": "Đạt ngưỡng {tier} (từ {threshold} điểm)",
            "en": "Reached the {tier} threshold ({threshold} points)",
        },
        "contests.reason.quota_full": {
            "vi": "Đủ điểm {tier} nhưng {tier} đã đủ {quota} suất: xuống giải dưới",
            "en": "Qualifies for {tier} but its {quota} place(s) are taken: moves down a tier",
        },
        "contests.reason.no_place_left": {
            "vi": "Đủ ngưỡng giải nhưng các giải đã hết suất",
            "en": "Above a threshold, but every tier it qualifies for is full",
        },
        "contests.reason.below_threshold": {
            "vi": "Dưới ngưỡng giải thấp nhất ({tier}: từ {threshold} điểm)",
            "en": "Below the lowest threshold ({tier}: {threshold} points)",
        },
        "contests.reason.override": {
            "vi": "Ban Tổ chức quyết định: {tier}. Lý do: {reason}",
            "en": "The organising board decided: {tier}. Reason: {reason}",
        },
        "contests.reason.by_rules": {"vi": "Theo quy tắc chấm: {tier}", "en": "By the rules: {tier}"},
        "contests.reason.incomplete": {
            "vi": "Chưa đủ phiếu chấm: {submitted}/{needed}",
            "en": "Not enough score sheets: {submitted} of {needed}",
        },
        "contests.reason.tie_broken": {
            "vi": "Bằng tổng điểm với {code}; phân định theo tiêu chí {criterion}",
            "en": "Same total as {code}; separated by the criterion {criterion}",
        },
        "contests.reason.tie_unresolved": {
            "vi": "Bằng điểm với {code} ở mọi tiêu chí: xếp theo mã hồ sơ, Ban Tổ chức cần xem xét",
            "en": "Equal to {code} on every criterion: ordered by entry number, for the board to look at",
        },
        "contests.reason.look_again": {
            "vi": "Giám khảo chấm chênh lệch {spread} điểm: đề nghị xem lại",
            "en": "Judges differ by {spread} points: look again",
        },
        # --- certificates.py ------------------------------------------------
        "contests.no_certificate": {"vi": "Không có giấy chứng nhận này", "en": "No such certificate"},
        # --- documents.py ---------------------------------------------------
        "contests.no_document": {"vi": "Không có tài liệu này", "en": "No such document"},
        # --- editions.py ----------------------------------------------------
        "contests.edition.code_taken": {"vi": "Mã kỳ thi {code} đã có", "en": "The edition code {code} is taken"},
        "contests.edition.criteria_fixed": {
            "vi": "Đã có phiếu chấm được nộp: không đổi được tiêu chí nữa",
            "en": "Score sheets were submitted: the criteria can no longer change",
        },
        "contests.edition.published": {
            "vi": "Kết quả đã công bố: chỉ đổi được lịch, số quyết định và cuộc thi toàn quốc",
            "en": "Results are published: only the timeline, decision number and national contest may change",
        },
        # --- eligibility.py -------------------------------------------------
        "contests.eligibility.applied_required": {
            "vi": "Cần ngày giải pháp bắt đầu được áp dụng vào thực tế",
            "en": "The date the solution was first applied in practice is needed",
        },
        "contests.eligibility.applied_too_early": {
            "vi": "Giải pháp phải được áp dụng từ ngày {since} trở đi",
            "en": "The solution must have been applied on or after {since}",
        },
        "contests.eligibility.applied_in_future": {
            "vi": "Giải pháp phải đã được áp dụng (ngày không được sau hôm nay)",
            "en": "The solution must already be applied (not a date after today)",
        },
        "contests.eligibility.entered_before": {
            "vi": "Giải pháp đã dự thi trước đây không được dự thi lại",
            "en": "A solution entered before may not be entered again",
        },
        "contests.eligibility.birth_required": {
            "vi": "Cần ngày sinh của tác giả",
            "en": "The author's date of birth is needed",
        },
        "contests.eligibility.age": {
            "vi": "Tác giả phải từ {min} đến {max} tuổi vào ngày {cutoff} (đang {age} tuổi)",
            "en": "Authors must be aged {min} to {max} on {cutoff} (this one is {age})",
        },
        "contests.eligibility.supervisor_required": {
            "vi": "Cần tên và trường của giáo viên hướng dẫn",
            "en": "The supervising teacher's name and school are needed",
        },
        "contests.eligibility.board": {
            "vi": "Chọn một bảng thi: {boards}",
            "en": "Choose a board: {boards}",
        },
        "contests.eligibility.unknown_field": {
            "vi": "Lĩnh vực không có trong kỳ thi này: {fields}",
            "en": "Not a field of this edition: {fields}",
        },
        # --- entering.py ----------------------------------------------------
        "contests.entry.locked": {
            "vi": "Hồ sơ đã qua sơ khảo: không sửa được nữa",
            "en": "The entry has been screened: it can no longer change",
        },
        # --- entrants.py ----------------------------------------------------
        "contests.entrant.one_author": {
            "vi": "Cá nhân dự thi chỉ có một tác giả",
            "en": "An individual entry has exactly one author",
        },
        "contests.entrant.organization_needed": {
            "vi": "Đơn vị dự thi cần mã đơn vị hoặc tên đơn vị",
            "en": "An organisation entry needs its organisation (id or name)",
        },
        "contests.entrant.unknown_organization": {
            "vi": "Không tìm thấy đơn vị này",
            "en": "No such organisation",
        },
        "contests.entrant.unknown_member": {"vi": "Không tìm thấy hội viên này", "en": "No such member"},
        "contests.entrant.name_needed": {"vi": "Cần họ tên tác giả", "en": "The author's name is needed"},
        "contests.entrant.shares": {
            "vi": "Tỷ lệ đóng góp phải ghi cho mọi tác giả (hoặc không ai) và cộng lại bằng 100%",
            "en": "Shares of authorship are given for every author (or none) and add up to 100 %",
        },
        # --- exports.py -----------------------------------------------------
        "contests.export.sheets": {
            "vi": "Giám khảo|Mã hồ sơ|Tên giải pháp|Lĩnh vực|{criteria}|Tổng điểm|Trạng thái phiếu|Nộp lúc|Nhận xét",
            "en": "Judge|Entry|Title|Field|{criteria}|Total|Sheet status|Submitted at|Comment",
        },
        "contests.export.entry_scores": {
            "vi": "Mã hồ sơ|Tên giải pháp|Lĩnh vực|Giám khảo|{criteria}|Tổng điểm",
            "en": "Entry|Title|Field|Judge|{criteria}|Total",
        },
        "contests.export.aggregate": {"vi": "Tổng hợp", "en": "Aggregate"},
        "contests.export.ranking": {
            "vi": "Nhóm|Hạng|Mã hồ sơ|Tên giải pháp|Lĩnh vực|Số phiếu|Điểm giám khảo|Bình chọn|Điểm bình chọn|Điểm cuối cùng|"
            "Chênh lệch|Độ lệch chuẩn|Cần xem lại|Giải theo quy tắc|Giải|Tiền thưởng|Ban Tổ chức quyết định|Giải thích",
            "en": "Group|Rank|Entry|Title|Field|Sheets|Judges' score|Votes|Vote points|Final score|"
            "Spread|Std deviation|Look again|Tier by rules|Tier|Prize money|Board's decision|Explanation",
        },
        "contests.export.forwarded": {
            "vi": "Mã hồ sơ|Tên giải pháp|Lĩnh vực|Giải|Điểm|Tác giả|Đơn vị|Email liên hệ|Điện thoại|Áp dụng từ|"
            "Nơi áp dụng|Tóm tắt|Tài liệu|Gửi lúc",
            "en": "Entry|Title|Field|Prize|Score|Authors|Organisation|Contact email|Phone|Applied since|"
            "Applied at|Summary|Documents|Forwarded at",
        },
        "contests.export.yes": {"vi": "Có", "en": "Yes"},
        # --- filetypes.py ---------------------------------------------------
        "contests.file.unsupported": {
            "vi": "Chỉ nhận PDF, ảnh (PNG, JPEG, WebP, TIFF) và bản vẽ (DWG, DXF); loại tệp được xác định theo nội dung",
            "en": "Only PDF, images (PNG, JPEG, WebP, TIFF) and drawings (DWG, DXF) are accepted, judged by content",
        },
        "contests.file.too_large": {
            "vi": "Tệp {kind} tối đa {limit}",
            "en": "A {kind} file may be at most {limit}",
        },
        "contests.file.too_many": {
            "vi": "Mỗi hồ sơ tối đa {limit} tệp",
            "en": "An entry may have at most {limit} files",
        },
        "contests.file.kind.pdf": {"vi": "PDF", "en": "PDF"},
        "contests.file.kind.image": {"vi": "ảnh", "en": "image"},
        "contests.file.kind.drawing": {"vi": "bản vẽ", "en": "drawing"},
        # --- judging.py -----------------------------------------------------
        "contests.sheet.submitted": {
            "vi": "Phiếu chấm đã nộp: chỉ Ban Tổ chức mở lại được",
            "en": "The sheet is submitted: only the organising board can reopen it",
        },
        "contests.sheet.not_submitted": {"vi": "Phiếu chấm chưa nộp", "en": "The sheet is not submitted"},
        "contests.sheet.none": {"vi": "Không có phiếu chấm này", "en": "No such score sheet"},
        "contests.sheet.published": {
            "vi": "Kết quả đã công bố: phiếu chấm không đổi được nữa",
            "en": "Results are published: score sheets can no longer change",
        },
        "contests.judge_label": {"vi": "Giám khảo {n}", "en": "Judge {n}"},
        # --- lifecycle.py ---------------------------------------------------
        "contests.transition.title": {"vi": "Không đổi được trạng thái hồ sơ", "en": "The entry cannot move there"},
        "contests.transition": {
            "vi": "Hồ sơ đang ở trạng thái “{current}”, không chuyển sang “{target}” được",
            "en": "The entry is “{current}”; it cannot become “{target}”",
        },
        # --- panels.py ------------------------------------------------------
        "contests.panel.no_judge": {"vi": "Không có giám khảo này trong kỳ thi", "en": "No such judge in this edition"},
        "contests.panel.unknown_field": {
            "vi": "Kỳ thi không có lĩnh vực {code}",
            "en": "The edition has no field {code}",
        },
        "contests.panel.withdrawn": {"vi": "Giám khảo đã rút khỏi hội đồng", "en": "The judge has left the panel"},
        "contests.panel.published": {
            "vi": "Kết quả đã công bố: hội đồng không thay đổi được nữa",
            "en": "Results are published: the panels can no longer change",
        },
        "contests.panel.not_on_panel": {
            "vi": "Giám khảo không thuộc hội đồng lĩnh vực của hồ sơ",
            "en": "The judge does not sit on the entry's field panel",
        },
        "contests.panel.conflict": {
            "vi": "Giám khảo có xung đột lợi ích với hồ sơ này ({kind})",
            "en": "The judge has a conflict of interest with this entry ({kind})",
        },
        "contests.panel.had_entry": {
            "vi": "Giám khảo đã từng được giao hồ sơ này",
            "en": "The judge already has, or had, this entry",
        },
        "contests.panel.not_competing": {
            "vi": "Hồ sơ không ở vòng chấm điểm",
            "en": "The entry is not in the scoring round",
        },
        "contests.conflict.organization": {"vi": "cùng đơn vị", "en": "same organisation"},
        "contests.conflict.coauthor": {"vi": "đồng tác giả", "en": "co-author"},
        "contests.conflict.relative": {"vi": "người thân", "en": "relative"},
        "contests.conflict.entry": {"vi": "đã tự khai", "en": "declared"},
        # --- papers.py ------------------------------------------------------
        "contests.paper.federation": {
            "vi": "LIÊN HIỆP CÁC HỘI KHOA HỌC VÀ KỸ THUẬT TỈNH",
            "en": "PROVINCIAL UNION OF SCIENCE AND TECHNOLOGY ASSOCIATIONS",
        },
        "contests.paper.board": {"vi": "BAN TỔ CHỨC", "en": "ORGANISING BOARD"},
        "contests.paper.nation": {
            "vi": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "en": "SOCIALIST REPUBLIC OF VIET NAM",
        },
        "contests.paper.motto": {"vi": "Độc lập - Tự do - Hạnh phúc", "en": "Independence - Freedom - Happiness"},
        "contests.paper.draft": {"vi": "DỰ THẢO", "en": "DRAFT"},
        "contests.paper.number": {"vi": "Số: {number}/QĐ-BTC", "en": "No. {number}/QĐ-BTC"},
        "contests.paper.date": {
            "vi": "ngày {day:02d} tháng {month:02d} năm {year}",
            "en": "{day:02d}/{month:02d}/{year}",
        },
        "contests.paper.decision": {"vi": "QUYẾT ĐỊNH", "en": "DECISION"},
        "contests.paper.about": {"vi": "Về việc trao giải {name}", "en": "On the awards of the {name}"},
        "contests.paper.grounds": {
            "vi": "Căn cứ Thể lệ {name}; căn cứ kết quả chấm của Hội đồng giám khảo và đề nghị của Thư ký Ban Tổ chức,",
            "en": "Under the rules of the {name}, the judging panels' scores and the board secretary's proposal,",
        },
        "contests.paper.decides": {"vi": "QUYẾT ĐỊNH:", "en": "DECIDES:"},
        "contests.paper.article1": {
            "vi": "Điều 1. Trao {count} giải cho các giải pháp có tên trong danh sách kèm theo, tổng giá trị giải thưởng {total} đồng.",
            "en": "Article 1. {count} prizes are awarded to the entries listed below, worth {total} VND in all.",
        },
        "contests.paper.article2": {
            "vi": "Điều 2. Kinh phí khen thưởng lấy từ nguồn kinh phí tổ chức Hội thi.",
            "en": "Article 2. The prizes are paid from the contest's budget.",
        },
        "contests.paper.article3": {
            "vi": "Điều 3. Thư ký Ban Tổ chức và các tác giả có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này.",
            "en": "Article 3. The board's secretary and the authors named in Article 1 carry out this decision.",
        },
        "contests.paper.columns": {
            "vi": "STT|Mã hồ sơ|Tên giải pháp|Tác giả|Đơn vị|Giải|Điểm|Tiền thưởng (đ)",
            "en": "No.|Entry|Title|Authors|Organisation|Prize|Score|Prize money (VND)",
        },
        "contests.paper.by_board": {
            "vi": "(*) Ban Tổ chức quyết định: {reasons}",
            "en": "(*) Decided by the organising board: {reasons}",
        },
        "contests.paper.for_board": {"vi": "TM. BAN TỔ CHỨC", "en": "FOR THE ORGANISING BOARD"},
        "contests.paper.certificate": {"vi": "GIẤY CHỨNG NHẬN", "en": "CERTIFICATE OF AWARD"},
        "contests.paper.certifies": {
            "vi": "Ban Tổ chức {name} chứng nhận",
            "en": "The organising board of the {name} certifies that",
        },
        "contests.paper.authors_of": {"vi": "tác giả giải pháp", "en": "authors of"},
        "contests.paper.won": {"vi": "đã đạt {tier}", "en": "won the {tier}"},
        "contests.paper.code": {"vi": "Số chứng nhận: {code}", "en": "Certificate number: {code}"},
        "contests.paper.verify": {"vi": "Xác thực tại: {url}", "en": "Verify at: {url}"},
        # --- publishing.py --------------------------------------------------
        "contests.publish.incomplete": {
            "vi": "Chưa công bố được: {entries} hồ sơ chưa đủ phiếu chấm, {sheets} phiếu chấm chưa nộp",
            "en": "Not yet: {entries} entries lack score sheets and {sheets} sheets are not submitted",
        },
        "contests.publish.empty": {"vi": "Chưa có hồ sơ nào để xếp giải", "en": "There is no entry to rank"},
        "contests.publish.not_yet": {"vi": "Kết quả chưa được công bố", "en": "The results are not published yet"},
        # --- ranking.py -----------------------------------------------------
        "contests.ranking.published": {
            "vi": "Kết quả đã công bố: không thay đổi được nữa",
            "en": "Results are published: nothing can change them now",
        },
        "contests.ranking.not_competing": {
            "vi": "Hồ sơ không ở vòng chấm điểm",
            "en": "The entry is not in the scoring round",
        },
        "contests.ranking.no_vote": {
            "vi": "Kỳ thi này không có bình chọn cộng đồng",
            "en": "This edition has no community vote",
        },
        # --- reach.py -------------------------------------------------------
        "contests.no_edition": {"vi": "Không có kỳ thi này", "en": "No such contest edition"},
        "contests.no_entry": {"vi": "Không có hồ sơ dự thi này", "en": "No such entry"},
        # --- rulebook.py ----------------------------------------------------
        "contests.rule.duplicate": {"vi": "Mã {code} bị trùng", "en": "The code {code} appears twice"},
        "contests.rule.unknown_criterion": {
            "vi": "Không có tiêu chí mã {code}",
            "en": "There is no criterion {code}",
        },
        "contests.rule.level_range": {
            "vi": "Mức điểm phải nằm trong 0–{max} và từ ≤ đến",
            "en": "A level must lie within 0–{max}, from ≤ to",
        },
        "contests.rule.tier_order": {
            "vi": "Các giải xếp từ cao xuống thấp: Nhất, Nhì, Ba, Khuyến khích",
            "en": "Tiers go from best to lowest: first, second, third, honourable",
        },
        "contests.rule.threshold_order": {
            "vi": "Ngưỡng điểm phải thấp hơn ngưỡng của giải cao hơn",
            "en": "A threshold must be below the threshold of the tier above",
        },
        "contests.rule.threshold_max": {
            "vi": "Ngưỡng điểm không quá tổng điểm tối đa ({max})",
            "en": "A threshold may not exceed the total maximum ({max})",
        },
        "contests.rule.judges": {
            "vi": "Số giám khảo tối thiểu không quá số giám khảo chấm mỗi hồ sơ",
            "en": "The minimum number of judges may not exceed the judges per entry",
        },
        "contests.rule.ages": {
            "vi": "Tuổi tối thiểu không quá tuổi tối đa",
            "en": "The minimum age exceeds the maximum",
        },
        "contests.rule.youth_only": {
            "vi": "Chỉ cuộc thi Thanh thiếu niên, Nhi đồng mới chia bảng",
            "en": "Only the youth contest has school boards",
        },
        "contests.rule.required_for_youth": {
            "vi": "Cuộc thi Thanh thiếu niên, Nhi đồng cần thông tin này",
            "en": "The youth contest needs this",
        },
        "contests.rule.not_empty": {"vi": "Cần ít nhất một mục", "en": "At least one is needed"},
        "contests.sheet.unknown": {"vi": "Không có tiêu chí này", "en": "No such criterion"},
        "contests.sheet.over": {"vi": "Tối đa {max} điểm", "en": "At most {max} points"},
        "contests.sheet.missing": {
            "vi": "Cần chấm tiêu chí này trước khi nộp",
            "en": "Score this criterion before submitting",
        },
        # --- screening.py ---------------------------------------------------
        "contests.screening.scored": {
            "vi": "Giám khảo đã nộp phiếu chấm cho hồ sơ này: không đổi kết quả sơ khảo được",
            "en": "Judges have submitted sheets for this entry: its screening can no longer change",
        },
        "contests.screening.same": {
            "vi": "Hồ sơ đã ở trạng thái này",
            "en": "The entry is already there",
        },
        # --- timeline.py ----------------------------------------------------
        "contests.round_closed.title": {"vi": "Ngoài thời gian của vòng thi", "en": "Outside the round's window"},
        "contests.round_closed": {
            "vi": "{round} diễn ra từ {opens} đến {closes} (giờ Việt Nam)",
            "en": "{round} runs from {opens} to {closes} (Viet Nam time)",
        },
        "contests.rounds_closed": {
            "vi": "Chỉ làm được trong: {windows}",
            "en": "Only possible during: {windows}",
        },
        "contests.windows_joined": {"vi": "{first}; {second}", "en": "{first}; {second}"},
        "contests.round_unscheduled": {
            "vi": "{round} chưa được lên lịch",
            "en": "{round} has not been scheduled",
        },
        "contests.window_order": {
            "vi": "Thời điểm kết thúc phải sau thời điểm bắt đầu",
            "en": "The window must close after it opens",
        },
        "contests.round_order": {
            "vi": "Vòng này phải bắt đầu không sớm hơn vòng trước ({previous})",
            "en": "This round may not open before the round before it ({previous})",
        },
    }
)


def label(kind: str, code: str | None) -> dict[str, str]:
    """A label in both languages, e.g. label("tier", "first") → {"vi": "Giải Nhất", "en": "First prize"}."""
    key = f"contests.{kind}.{code or 'none'}"
    return {"vi": Message(key).render("vi"), "en": Message(key).render("en")}


def text(key: str, lang: str = "vi", **params: object) -> str:
    return MESSAGES.text(f"contests.{key}", lang, **params)
