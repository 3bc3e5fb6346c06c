#!/usr/bin/env bash
# Install the Debian packages the test suite and the service use, when missing and when we can (root):
#   postgresql                         the PostgreSQL half of the tests
#   libreoffice-writer-nogui           .docx → PDF (engine/documents/service.py, tests/integration/test_documents_pdf.py)
#   poppler-utils                      pdftotext / pdftoppm / pdffonts for the PDF tests and docs/*.png
#   fonts-noto-cjk                     Chinese glyphs for the PDF (宋体, 仿宋, 黑体, 方正小标宋简体 stand-ins)
#   fonts-liberation2                  Liberation Serif, metric-compatible with Times New Roman, the templates' Latin
#                                      face: digits and Latin letters take the widths the forms were laid out for
#                                      (without it LibreOffice falls back to the wider DejaVu Serif)
#   chromium                           the browser tests (Playwright drives Debian's Chromium; never `playwright install`)
#   fonts-arphic-ukai                  AR PL UKai CN, a Kai (楷书) face for the templates' 楷体 (form 5's （一） headings,
#                                      the subtitles of forms 6 and 7); Noto CJK has no Kai face
# and a fontconfig alias file so that the templates' font names resolve to those faces: the Song/FangSong names
# (宋体, 仿宋, 方正小标宋简体, …) → Noto Serif CJK SC, the Hei names (黑体, …) → Noto Sans CJK SC, the Kai names
# (楷体, 楷体_GB2312, KaiTi, STKaiti, 华文楷体) → AR PL UKai CN, and Times New Roman → Liberation Serif (fontconfig's
# own 30-metric-aliases.conf says the same; the file repeats it so the mapping does not depend on that file).
# Without the CJK aliases LibreOffice falls back to a Japanese face (centred punctuation, Japanese glyph shapes).
# Idempotent: nothing is installed or written when it is already there.
set -euo pipefail
need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need+=(postgresql); fi
if [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
if ! command -v soffice >/dev/null 2>&1; then need+=(libreoffice-writer-nogui); fi
if ! command -v pdftoppm >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then need+=(poppler-utils); fi
# the families once, then grep a string (a `fc-list | grep -q` pipe can die of SIGPIPE under pipefail)
families=$(fc-list : family 2>/dev/null || true)
has_font() { grep -qF "$1" <<<"$families"; }
if ! has_font "Noto Serif CJK SC"; then need+=(fonts-noto-cjk); fi
if ! has_font "Liberation Serif"; then need+=(fonts-liberation2); fi
if ! has_font "AR PL UKai CN"; then need+=(fonts-arphic-ukai); fi

FONT_CONF=/etc/fonts/conf.d/64-eco-claims-cjk.conf
font_conf() {
  local serif=(宋体 SimSun NSimSun 新宋体 STSong 华文宋体 仿宋 仿宋_GB2312 FangSong STFangsong 华文仿宋
               方正小标宋简体 方正小标宋_GBK FZXiaoBiaoSong-B05S 小标宋)
  local sans=(黑体 SimHei STHeiti 华文黑体 微软雅黑 "Microsoft YaHei")
  local kai=(楷体 楷体_GB2312 KaiTi KaiTi_GB2312 STKaiti 华文楷体)
  local title=(方正小标宋简体 方正小标宋_GBK FZXiaoBiaoSong-B05S 小标宋)
  local name
  echo '<?xml version="1.0"?>'
  echo '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
  echo '<!-- eco-claims (tools/system-packages.sh): the font names of document_templates/ → Noto CJK SC,'
  echo '     AR PL UKai CN (楷体) and Liberation Serif (Times New Roman) -->'
  echo '<fontconfig>'
  for name in "${serif[@]}"; do
    echo "  <alias binding=\"same\"><family>$name</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>"
  done
  for name in "${sans[@]}"; do
    echo "  <alias binding=\"same\"><family>$name</family><prefer><family>Noto Sans CJK SC</family></prefer></alias>"
  done
  # Kai: AR PL UKai CN first (mainland glyph shapes), Noto Serif CJK SC if UKai is missing
  for name in "${kai[@]}"; do
    echo "  <alias binding=\"same\"><family>$name</family><prefer><family>AR PL UKai CN</family>" \
         "<family>Noto Serif CJK SC</family></prefer></alias>"
  done
  echo '  <alias binding="same"><family>Times New Roman</family><prefer><family>Liberation Serif</family></prefer></alias>'
  # 小标宋 (the titles) is a heavy Song: the bold Noto Serif stands in for it
  for name in "${title[@]}"; do
    echo "  <match target=\"pattern\"><test name=\"family\"><string>$name</string></test>"
    echo "    <edit name=\"weight\" mode=\"assign\" binding=\"strong\"><const>bold</const></edit></match>"
  done
  echo '</fontconfig>'
}

if [ "$(id -u)" != "0" ]; then
  if [ ${#need[@]} -gt 0 ]; then
    echo "missing system packages: ${need[*]} (run as root or install them); the tests that need them are skipped" >&2
  fi
  if [ ! -f "$FONT_CONF" ]; then
    echo "no fontconfig alias for the templates' fonts ($FONT_CONF): run this script as root" >&2
  fi
  exit 0
fi

if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -d /etc/fonts/conf.d ]; then
  tmp=$(mktemp)
  font_conf >"$tmp"
  if ! cmp -s "$tmp" "$FONT_CONF"; then
    install -m 0644 "$tmp" "$FONT_CONF"
    fc-cache -f >/dev/null 2>&1 || true
  fi
  rm -f "$tmp"
fi
