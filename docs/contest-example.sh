#!/usr/bin/env bash
# An edition of the Technical Creativity Contest run end to end through the API, as the
# README tells it. Run it against `make run` (GW defaults to the gateway `make run` prints).
# Every round's window is opened at once so the example runs in one go; a real edition
# moves from round to round on its dates (PATCH /contests/editions/{id} changes them).
set -euo pipefail
GW=${GW:-http://127.0.0.1:8080/api/v1}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-$(cat var/bootstrap-admin-password)}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }
post() { curl -sf -X POST "$GW$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "$3"; }
put() { curl -sf -X PUT "$GW$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "$3"; }
login() { curl -sf -X POST "$GW/auth/login" -H 'Content-Type: application/json' \
          -d "{\"username\": \"$1\", \"password\": \"$2\"}" | json '["access_token"]'; }

# 1. The office logs in, makes three judges' accounts and a key for the contest's website.
TOKEN=$(login admin "$ADMIN_PASSWORD")
for judge in gk.an gk.binh gk.chi; do
  post /admin/staff "$TOKEN" "{\"username\": \"$judge\", \"password\": \"mat-khau-$judge-2027\", \"role\": \"judge\"}" >/dev/null || true
done
WEBSITE=$(post /admin/api-keys "$TOKEN" '{"name": "Website Hội thi", "scopes": ["contests:read", "contests:write"]}' | json '["key"]')

# 2. The edition: the contest's usual fields, criteria and prize tiers, with its rounds' dates.
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ); LATER=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
WINDOW="{\"opens_at\": \"$NOW\", \"closes_at\": \"$LATER\"}"
EDITION=$(post /contests/editions "$TOKEN" "{
  \"code\": \"STKT10\", \"kind\": \"technical\", \"number\": 10,
  \"name\": {\"vi\": \"Hội thi Sáng tạo kỹ thuật tỉnh lần thứ X (2021–2023)\", \"en\": \"10th Provincial Technical Creativity Contest\"},
  \"eligibility\": {\"applied_since\": \"2021-01-01\"}, \"judges_per_entry\": 3, \"decision_number\": \"15\",
  \"timeline\": {\"registration\": $WINDOW, \"submission\": $WINDOW, \"screening\": $WINDOW, \"scoring\": $WINDOW,
                 \"decision\": $WINDOW, \"ceremony\": $WINDOW, \"forwarding\": $WINDOW}}" | json '["id"]')

# 3. The website submits an entry and attaches its description (the type is read from the file itself).
ENTRY=$(curl -sf -X POST "$GW/contests/editions/$EDITION/entries" -H "X-API-Key: $WEBSITE" \
  -H 'Content-Type: application/json' -d '{
  "title": "Máy sấy lúa dùng năng lượng mặt trời kết hợp sinh khối", "field": "agriculture",
  "summary": "Sấy 2 tấn lúa mỗi mẻ, giảm 40% chi phí chất đốt.", "applied_since": "2023-03-01",
  "application_place": "HTX Nông nghiệp Phú An",
  "entrant": {"kind": "group", "authors": [
    {"full_name": "Nguyễn Văn Hùng", "email": "hung@example.vn", "share": 60},
    {"full_name": "Trần Thị Mai", "email": "mai@example.vn", "language": "en", "share": 40}]}}' | json '["id"]')
printf '%%PDF-1.4\n%% thuyet minh giai phap\n' > /tmp/thuyet-minh.pdf
curl -sf -X POST "$GW/contests/entries/$ENTRY/documents?name=thuyet-minh.pdf" -H "X-API-Key: $WEBSITE" \
  -H 'Content-Type: application/pdf' --data-binary @/tmp/thuyet-minh.pdf | json '["documents"][0]["sha256"]'

# 4. Screening (sơ khảo), the panel, a conflict declared, assignment without conflicts.
post "/contests/entries/$ENTRY/screening" "$TOKEN" '{"decision": "in"}' | json '["status"]'
for judge in gk.an gk.binh gk.chi; do
  put "/contests/editions/$EDITION/judges/$judge" "$TOKEN" "{\"full_name\": \"TS. $judge\", \"fields\": [\"agriculture\"]}" >/dev/null
done
post /contests/judging/conflicts "$(login gk.chi mat-khau-gk.chi-2027)" \
  "{\"edition_id\": \"$EDITION\", \"kind\": \"relative\", \"person_name\": \"Nguyễn Văn Hùng\", \"note\": \"anh rể\"}" >/dev/null
put "/contests/editions/$EDITION/judges/gk.dung" "$TOKEN" '{"full_name": "ThS. Dũng", "fields": ["agriculture"]}' >/dev/null
post /admin/staff "$TOKEN" '{"username": "gk.dung", "password": "mat-khau-gk.dung-2027", "role": "judge"}' >/dev/null || true
post "/contests/editions/$EDITION/assignments" "$TOKEN" '{}' | json '["pairs"]'

# 5. Chung khảo: each judge scores on their own; others' scores show only after one's own is in.
for scored in "gk.an 27 25 36" "gk.binh 26 27 34" "gk.dung 25 24 33"; do
  set -- $scored
  put "/contests/judging/entries/$ENTRY/sheet" "$(login "$1" "mat-khau-$1-2027")" \
    "{\"scores\": {\"novelty\": $2, \"applicability\": $3, \"effectiveness\": $4}, \"submit\": true}" | json '["others"]'
done

# 6. The board's ranking (tiers, quotas, disagreement, why), an override with its reason, publication.
curl -sf "$GW/contests/editions/$EDITION/ranking" -H "Authorization: Bearer $TOKEN" \
  | json '["items"][0]["final_score"], d["items"][0]["tier"], d["items"][0]["explanation"]'
post "/contests/editions/$EDITION/publish" "$TOKEN" '' | json '["awarded"]'
curl -sf "$GW/contests/editions/$EDITION/results" | json '["items"][0]["tier_label"]["vi"]'   # no login needed

# 7. The award decision (PDF), certificates anyone can verify, the XLSX ranking, forwarding.
curl -sf "$GW/contests/editions/$EDITION/decision" -H "Authorization: Bearer $TOKEN" -o /tmp/quyet-dinh-trao-giai.pdf
post "/contests/editions/$EDITION/certificates" "$TOKEN" '' | json '["issued"]'
CODE=$(curl -sf "$GW/contests/entries/$ENTRY" -H "Authorization: Bearer $TOKEN" | json '["certificate"]["code"]')
curl -sf "$GW/contests/certificates/$CODE" | json '["valid"], d["tier_label"]["vi"]'
curl -sf "$GW/contests/editions/$EDITION/exports/ranking" -H "Authorization: Bearer $TOKEN" -o /tmp/xep-hang.xlsx
post "/contests/entries/$ENTRY/forward" "$TOKEN" '{"note": "Gửi kèm hồ sơ gốc"}' | json '["status"]'
ls var/mail/ | tail -3   # the authors' emails: received, screened, scored, awarded, certificate, forwarded
