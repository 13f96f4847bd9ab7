"""French for liverooms: the source of locale/fr/LC_MESSAGES/*.po.

`python locale/fr.py` rewrites both .po files from makemessages' output (their msgids) and
the translations below, then compiles the .mo files in pure Python (no gettext tools). Both the
.po and the .mo are committed, so a fresh machine serves French without msgfmt.
"""

from __future__ import annotations

import ast
import re
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

FR: dict[str, str | tuple[str, str]] = {
    # pages (django domain)
    "%(hours)d h %(minutes)02d min": "%(hours)d h %(minutes)02d min",
    "%(minutes)d min": ("%(minutes)d min", "%(minutes)d min"),
    "%(seconds)d s": ("%(seconds)d s", "%(seconds)d s"),
    "Not found": "Introuvable",
    "There is nothing here": "Il n'y a rien ici",
    "This live may have been removed, or the address is mistyped.": (
        "Ce live a peut-être été supprimé, ou l'adresse comporte une faute de frappe."
    ),
    "See who is live": "Voir qui est en live",
    "Skip to the content": "Aller au contenu",
    "Account": "Compte",
    "Moderation": "Modération",
    "Log out": "Se déconnecter",
    "Log in": "Se connecter",
    "Sign up": "S'inscrire",
    "Go live": "Passer en live",
    "Title": "Titre",
    "What's this live about?": "De quoi parle ce live ?",
    '<a href="%(login_url)s">Log in</a> or <a href="%(signup_url)s">sign up</a> to go live.': (
        '<a href="%(login_url)s">Connectez-vous</a> ou <a href="%(signup_url)s">inscrivez-vous</a> pour passer en live.'
    ),
    "New here?": "Nouveau ici ?",
    "Already have an account?": "Vous avez déjà un compte ?",
    "Too many attempts": "Trop de tentatives",
    "%(doing)s is paused for a while to keep accounts safe.": (
        "%(doing)s : en pause pour un moment, pour protéger les comptes."
    ),
    "Try again %(when)s.": "Réessayez %(when)s.",
    "If you did not make these attempts, someone else may have tried from your network or on your account. "
    "Your password still works once the pause ends.": (
        "Si ces tentatives ne viennent pas de vous, quelqu'un d'autre a pu essayer depuis votre réseau ou sur "
        "votre compte. Votre mot de passe fonctionnera à nouveau à la fin de la pause."
    ),
    "Back to the home page": "Retour à l'accueil",
    "Other lives now": "D'autres lives en ce moment",
    "Live now": "En live maintenant",
    "%(seated)s of 4 on stage": ("%(seated)s sur 4 sur scène", "%(seated)s sur 4 sur scène"),
    "%(viewers)s watching": ("%(viewers)s spectateur", "%(viewers)s spectateurs"),
    "Nobody is live right now.": "Personne n'est en live pour le moment.",
    "Ended": "Terminé",
    "This live by @%(host)s has ended.": "Ce live de @%(host)s est terminé.",
    "Duration": "Durée",
    "Peak viewers": "Pic de spectateurs",
    "Talk time": "Temps de parole",
    "Only you see this: how long each person on stage spoke, from their sound level.": (
        "Vous seul voyez ceci : combien de temps chaque personne sur scène a parlé, d'après son niveau sonore."
    ),
    "host": "hôte",
    "seat %(number)s": "place %(number)s",
    "%(minutes)d min %(seconds)02d s": "%(minutes)d min %(seconds)02d s",
    "Comments": "Commentaires",
    "LIVE": "EN DIRECT",
    "Starting soon": "Bientôt en direct",
    "mic off": "micro coupé",
    "speaking": "parle",
    "camera off": "caméra coupée",
    "Tap for sound": "Activer le son",
    "Your seat": "Votre place",
    "Mic": "Micro",
    "Camera": "Caméra",
    "Leave the stage": "Quitter la scène",
    "End live": "Terminer le live",
    "Comment": "Commentaire",
    "Connecting…": "Connexion…",
    "Log in to comment": "Connectez-vous pour commenter",
    "Send": "Envoyer",
    "Send a heart": "Envoyer un cœur",
    "Log in to comment.": "Connectez-vous pour commenter.",
    "The host invited you on stage.": "L'hôte vous invite sur scène.",
    "Join the stage": "Monter sur scène",
    "Not now": "Pas maintenant",
    "Request to join": "Demander à monter sur scène",
    "Host": "Hôte",
    "Asking to join": "Demandes pour monter sur scène",
    "Invite by username": "Inviter par nom d'utilisateur",
    "Invite": "Inviter",
    "Turn comments off": "Désactiver les commentaires",
    "Turn comments on": "Activer les commentaires",
    "You are on stage": "Vous êtes sur scène",
    "Go live from OBS or FFmpeg instead": "Passer en live depuis OBS ou FFmpeg",
    "WHIP URL:": "URL WHIP :",
    "Copy the URL": "Copier l'URL",
    "Bearer token:": "Jeton (Bearer) :",
    "Show the token": "Afficher le jeton",
    "Hide the token": "Masquer le jeton",
    "Copy the token": "Copier le jeton",
    "New token": "Nouveau jeton",
    "Keep the token secret: it lets anyone publish to your seat. A new token ends any stream still using the "
    "old one.": (
        "Gardez ce jeton secret : il permet à n'importe qui de diffuser sur votre place. Un nouveau jeton coupe "
        "tout flux qui utilise encore l'ancien."
    ),
    "OBS (30 or newer)": "OBS (30 ou plus récent)",
    "FFmpeg (8.0 or newer)": "FFmpeg (8.0 ou plus récent)",
    "FFmpeg needs a P-256 certificate for the encrypted connection (some FFmpeg builds make a P-224 one, which "
    "this server refuses). Make one once:": (
        "FFmpeg a besoin d'un certificat P-256 pour la connexion chiffrée (certaines versions de FFmpeg en "
        "créent un en P-224, que ce serveur refuse). Créez-le une fois :"
    ),
    "Copy the command": "Copier la commande",
    "Certificate command": "Commande du certificat",
    "FFmpeg command": "Commande FFmpeg",
    "Then go live (a test picture and tone; put your camera and microphone in place of the two <code>-f lavfi "
    "-i …</code> inputs, e.g. <code>-f v4l2 -i /dev/video0 -f pulse -i default</code>):": (
        "Puis passez en live (une mire et un son de test ; remplacez les deux entrées <code>-f lavfi -i …</code> "
        "par votre caméra et votre micro, par exemple <code>-f v4l2 -i /dev/video0 -f pulse -i default</code>) :"
    ),
    # liverooms/forms.py, once its help text goes through gettext (see the merge note of #13)
    "Up to %(max)d characters: letters a to z, digits, and . _ -": (
        "Jusqu'à %(max)d caractères : lettres de a à z, chiffres, et . _ -"
    ),
    # room.js, socket.js, studio.js (djangojs domain)
    "Mute %(name)s's mic": "Couper le micro de %(name)s",
    "Turn off %(name)s's camera": "Couper la caméra de %(name)s",
    "Remove %(name)s from the stage": "Retirer %(name)s de la scène",
    "This live has ended.": "Ce live est terminé.",
    "The host turned comments off.": "L'hôte a désactivé les commentaires.",
    "Add a comment…": "Ajouter un commentaire…",
    "This browser cannot use a camera on this page.": "Ce navigateur ne peut pas utiliser de caméra sur cette page.",
    "Getting your seat ready…": "Préparation de votre place…",
    "Your seat is live from another tab or app.": (
        "Votre place est déjà en direct depuis un autre onglet ou une autre application."
    ),
    "New token. The old one no longer works.": "Nouveau jeton. L'ancien ne fonctionne plus.",
    "Could not change the token: %(reason)s": "Impossible de changer le jeton : %(reason)s",
    "Invite %(name)s": "Inviter %(name)s",
    "Nobody yet.": "Personne pour l'instant.",
    "%(count)s new comment. Latest: %(latest)s": (
        "%(count)s nouveau commentaire. Le dernier : %(latest)s",
        "%(count)s nouveaux commentaires. Le dernier : %(latest)s",
    ),
    "%(count)s watching": ("%(count)s spectateur", "%(count)s spectateurs"),
    "Video unavailable: %(reason)s": "Vidéo indisponible : %(reason)s",
    "Starting camera…": "Démarrage de la caméra…",
    "You are no longer on stage.": "Vous n'êtes plus sur scène.",
    "You are live.": "Vous êtes en direct.",
    "Could not go live: %(reason)s": "Impossible de passer en live : %(reason)s",
    "Asked the host.": "Demande envoyée à l'hôte.",
    "Copied.": "Copié.",
    "Could not copy: select the text and copy it yourself.": "Copie impossible : sélectionnez le texte et copiez-le.",
    "End this live for everyone?": "Terminer ce live pour tout le monde ?",
    "Turn sound off": "Couper le son",
    "Connection lost; try again.": "Connexion perdue ; réessayez.",
    "Reconnecting…": "Reconnexion…",
    "Not connected; try again in a moment.": "Pas connecté ; réessayez dans un instant.",
    "Settings → Stream → Service": "Paramètres → Stream → Service",
    "Server": "Serveur",
    "Bearer Token": "Jeton du porteur",
    "Output → Video Encoder": "Sortie → Encodeur vidéo",
    "x264 (H.264; OBS sends Opus audio over WHIP by itself)": (
        "x264 (H.264 ; OBS envoie lui-même l'audio en Opus par WHIP)"
    ),
    "Rate Control / Bitrate": "Contrôle du débit / Débit",
    "Keyframe Interval": "Intervalle d'images clés",
    "Profile / Tune": "Profil / Réglage",
    # the Hotline (Q&A), the pinned comment and moderation in the room (#14, #15)
    "Question": "Question",
    "Questions": "Questions",
    "Pinned": "Épinglé",
    "Unpin": "Désépingler",
    "Questions for the host": "Questions pour l'hôte",
    "Your question": "Votre question",
    "Ask the host a question…": "Posez une question à l'hôte…",
    "Ask": "Demander",
    "Log in to ask a question.": "Connectez-vous pour poser une question.",
    "No questions yet.": "Aucune question pour l'instant.",
    "Held for review": "En attente de validation",
    "Turn questions off": "Désactiver les questions",
    "Turn questions on": "Activer les questions",
    "Slow mode": "Mode lent",
    "Off": "Désactivé",
    "10 s": "10 s",
    "30 s": "30 s",
    "1 min": "1 min",
    "5 min": "5 min",
    "10 min": "10 min",
    "1 h": "1 h",
    "24 h": "24 h",
    "%(seconds)s s": "%(seconds)s s",
    "%(minutes)s min": "%(minutes)s min",
    "%(hours)s h": "%(hours)s h",
    "Moderators": "Modérateurs",
    "Name a moderator by username": "Nommer un modérateur par son nom d'utilisateur",
    "Name moderator": "Nommer modérateur",
    "You cannot comment in this live.": "Vous ne pouvez pas commenter dans ce live.",
    "You are timed out until %(time)s.": "Vous ne pouvez plus commenter jusqu'à %(time)s.",
    "Slow mode: you can comment again in %(seconds)s s.": (
        "Mode lent : vous pourrez commenter à nouveau dans %(seconds)s s."
    ),
    "Slow mode: one comment every %(duration)s.": "Mode lent : un commentaire toutes les %(duration)s.",
    "pending review": "en attente de validation",
    "Moderate %(name)s's comment": "Modérer le commentaire de %(name)s",
    "Pin": "Épingler",
    "Remove": "Retirer",
    "How long to time out %(name)s": "Durée de la suspension de %(name)s",
    "Time out": "Suspendre",
    "Time out %(name)s": "Suspendre %(name)s",
    "Timed out until %(time)s.": "Suspendu jusqu'à %(time)s.",
    "Lift timeout": "Lever la suspension",
    "Lift %(name)s's timeout": "Lever la suspension de %(name)s",
    "Timeout lifted.": "Suspension levée.",
    "1 new comment": "1 nouveau commentaire",
    "{count} new comments": "{count} nouveaux commentaires",
    "Show them": "Les afficher",
    "The host turned questions off.": "L'hôte a désactivé les questions.",
    "You are on stage: questions are for viewers.": "Vous êtes sur scène : les questions sont pour les spectateurs.",
    "You have a question waiting: you can ask another once it is answered.": (
        "Votre question attend sa réponse : vous pourrez en poser une autre ensuite."
    ),
    "%(count)s vote": ("%(count)s vote", "%(count)s votes"),
    "Vote": "Voter",
    "Vote for %(name)s's question": "Voter pour la question de %(name)s",
    "Spotlight": "Mettre à l'écran",
    "Stop spotlight": "Retirer de l'écran",
    "In the spotlight": "À l'écran",
    "Answered": "Répondu",
    "Dismiss": "Écarter",
    "Approve": "Approuver",
    "Reject": "Refuser",
    "Approve %(name)s's comment": "Approuver le commentaire de %(name)s",
    "Reject %(name)s's comment": "Refuser le commentaire de %(name)s",
    "Nothing waiting.": "Rien en attente.",
    "Stop %(name)s moderating": "Retirer %(name)s des modérateurs",
    # the replay page (rooms/views_replay.py, templates/rooms/replay.html, replay.js)
    "Replay": "Rediffusion",
    "Recording is turned off on this server.": "L'enregistrement est désactivé sur ce serveur.",
    "Watch the replay": "Regarder la rediffusion",
    "This replay is private": "Cette rediffusion est privée",
    "The replay is almost ready": "La rediffusion est presque prête",
    "There is no replay of this live": "Il n'y a pas de rediffusion de ce live",
    "Only @%(host)s can watch it.": "Seul @%(host)s peut la regarder.",
    "It is being put together; reload this page in a few seconds.": (
        "Elle est en préparation ; rechargez cette page dans quelques secondes."
    ),
    "It was not recorded, or the host deleted it.": (
        "Ce live n'a pas été enregistré, ou son hôte a supprimé la rediffusion."
    ),
    "Back to the live's page": "Retour à la page du live",
    "No comments yet at this point of the live.": "Pas encore de commentaire à ce moment du live.",
    "Replay controls": "Commandes de la rediffusion",
    "Play": "Lecture",
    "Pause": "Pause",
    "Position in the replay": "Position dans la rediffusion",
    "Speed": "Vitesse",
    "%(time)s of %(total)s": "%(time)s sur %(total)s",
    "Your replay": "Votre rediffusion",
    "Private: only you can watch it.": "Privée : vous seul pouvez la regarder.",
    "Public: whoever could watch the live can watch it.": "Publique : qui pouvait regarder le live peut la regarder.",
    "Make public": "Rendre publique",
    "Make private": "Rendre privée",
    "The replay is private.": "La rediffusion est privée.",
    "The replay is public.": "La rediffusion est publique.",
    "Delete the replay": "Supprimer la rediffusion",
    "Delete this replay for everyone? Its files are deleted and cannot be brought back.": (
        "Supprimer cette rediffusion pour tout le monde ? Ses fichiers seront effacés définitivement."
    ),
    "Download": "Télécharger",
    "The whole live, four tiles in one MP4": "Tout le live, les quatre tuiles dans un MP4",
    "The four-tile MP4 is being made; it will be here once ready.": (
        "Le MP4 à quatre tuiles est en préparation ; il sera ici une fois prêt."
    ),
    "Seat %(seat)s's original file (from %(start)s s)": (
        "Fichier original de la place %(seat)s (à partir de %(start)s s)"
    ),
    "Your browser did not start the replay; press Play.": (
        "Votre navigateur n'a pas lancé la rediffusion ; appuyez sur Lecture."
    ),
    "This replay is no longer available.": "Cette rediffusion n'est plus disponible.",
    # server messages: errors a room socket answers (in the socket's language, rooms.language),
    # the create-room refusals and the throttle pages (#13)
    "Log in first.": "Connectez-vous d'abord.",
    "Only the host can do that.": "Seul l'hôte peut faire ça.",
    "Give the live a title.": "Donnez un titre au live.",
    "A title is at most %(max)d characters.": "Un titre fait au plus %(max)d caractères.",
    "There is no such live.": "Ce live n'existe pas.",
    "Slow down a little.": "Ralentissez un peu.",
    "Something went wrong on our side; try again.": "Un problème est survenu de notre côté ; réessayez.",
    "This server is full; try again in a moment.": "Ce serveur est plein ; réessayez dans un instant.",
    "Too many connections to this live from your address.": "Trop de connexions à ce live depuis votre adresse.",
    "You are already live in “%(title)s”.": "Vous êtes déjà en live dans « %(title)s ».",
    "You have started too many lives in a short time.": "Vous avez lancé trop de lives en peu de temps.",
    "You are doing that too fast; wait a moment.": "Vous allez trop vite ; attendez un instant.",
    "This server takes no reactions.": "Ce serveur ne prend pas de réactions.",
    '{message} <a href="{url}">Go back to it</a>, or end it there first.': (
        '{message} <a href="{url}">Y retourner</a>, ou le terminer d\'abord.'
    ),
    "%(reason)s Try again %(when)s.": "%(reason)s Réessayez %(when)s.",
    "in %(count)d second": ("dans %(count)d seconde", "dans %(count)d secondes"),
    "in %(count)d minute": ("dans %(count)d minute", "dans %(count)d minutes"),
    "in about %(count)d hour": ("dans environ %(count)d heure", "dans environ %(count)d heures"),
    "Logging in from your network": "La connexion depuis votre réseau",
    "Logging in to this account": "La connexion à ce compte",
    "Signing up from your network": "L'inscription depuis votre réseau",
    "Only the host or a moderator can do that.": "Seuls l'hôte et les modérateurs peuvent faire ça.",
    "The host cannot be moderated in their own live.": "L'hôte ne peut pas être modéré dans son propre live.",
    "A moderator cannot moderate another moderator.": "Un modérateur ne peut pas modérer un autre modérateur.",
    "There is no user %(name)r.": "Il n'y a pas d'utilisateur %(name)r.",
    "You moderate your own live already.": "Vous modérez déjà votre propre live.",
    "A live has at most %(max)d moderators.": "Un live a au plus %(max)d modérateurs.",
    "There is no such comment.": "Ce commentaire n'existe pas.",
    "A timeout lasts %(min)d s to %(max)d s (0 lifts it).": (
        "Une suspension dure de %(min)d s à %(max)d s (0 la lève)."
    ),
    "%(name)s is banned from this live for good already.": "%(name)s est déjà banni de ce live pour de bon.",
    "Only the host or a moderator can pin a comment.": (
        "Seuls l'hôte et les modérateurs peuvent épingler un commentaire."
    ),
    "There is no such question.": "Cette question n'existe pas.",
    "That question is closed.": "Cette question est close.",
    "A question cannot be empty.": "Une question ne peut pas être vide.",
    "A question is at most %(max)d characters.": "Une question fait au plus %(max)d caractères.",
    "You are asking too fast; wait a moment.": "Vous posez des questions trop vite ; attendez un instant.",
    "Questions are turned off in this live.": "Les questions sont désactivées dans ce live.",
    "You are on the stage: answer, don't ask.": "Vous êtes sur scène : répondez, ne demandez pas.",
    "You are not allowed to ask here.": "Vous n'avez pas le droit de poser de questions ici.",
    "Your question contains a word that is not allowed here.": (
        "Votre question contient un mot qui n'est pas autorisé ici."
    ),
    "You have a question waiting already; ask again once it is answered.": (
        "Vous avez déjà une question en attente ; posez-en une autre une fois qu'elle aura sa réponse."
    ),
    "Only the host or a moderator can dismiss a question.": (
        "Seuls l'hôte et les modérateurs peuvent écarter une question."
    ),
    "Unknown reaction %(kind)r; use one of %(kinds)s.": "Réaction inconnue %(kind)r ; utilisez l'une de : %(kinds)s.",
    "There is no such comment waiting for review.": "Aucun commentaire de ce type n'attend de validation.",
    "Only the host or a moderator can review comments.": (
        "Seuls l'hôte et les modérateurs peuvent valider les commentaires."
    ),
    "`comments.set` needs `enabled` or `slow_mode`.": "`comments.set` demande `enabled` ou `slow_mode`.",
    "`slow_mode` is 0 to %(max)d seconds.": "`slow_mode` va de 0 à %(max)d secondes.",
    "A comment cannot be empty.": "Un commentaire ne peut pas être vide.",
    "A comment is at most %(max)d characters.": "Un commentaire fait au plus %(max)d caractères.",
    "You are commenting too fast; wait a moment.": "Vous commentez trop vite ; attendez un instant.",
    "Comments are turned off in this live.": "Les commentaires sont désactivés dans ce live.",
    "Your comment contains a word that is not allowed here.": (
        "Votre commentaire contient un mot qui n'est pas autorisé ici."
    ),
    # Ready for the strings still to be wrapped in gettext in files "lease" owns (rooms/seats.py,
    # the ban and slow-mode lines of comments/actions.py): see #13's merge note.
    "You are not allowed to comment.": "Vous n'avez pas le droit de commenter.",
    "You are timed out of this live's comments.": "Vous êtes suspendu des commentaires de ce live.",
    "Slow mode: one comment every %(seconds)d s.": "Mode lent : un commentaire toutes les %(seconds)d s.",
    "You are already on stage.": "Vous êtes déjà sur scène.",
    "All seats are taken.": "Toutes les places sont prises.",
    "There is no user called %(name)r.": "Il n'y a pas d'utilisateur nommé %(name)r.",
    "%(name)s is already on stage.": "%(name)s est déjà sur scène.",
    "You have no seat offer in this live.": "Vous n'avez pas d'invitation sur scène dans ce live.",
    "You are not on stage.": "Vous n'êtes pas sur scène.",
    "The host ends the live instead of leaving.": "L'hôte termine le live au lieu de le quitter.",
    "Guest seats are 1 to %(max)d.": "Les places d'invités vont de 1 à %(max)d.",
    "Seat %(index)d is empty.": "La place %(index)d est libre.",
    "Say `camera`, `mic` or both.": "Indiquez `camera`, `mic` ou les deux.",
    "Seats are 0 to %(max)d.": "Les places vont de 0 à %(max)d.",
    "Only the seat's owner can change it.": "Seul l'occupant de la place peut la modifier.",
    "Only the guest can turn their camera or mic on.": "Seul l'invité peut rallumer sa caméra ou son micro.",
    "Your stream sends no video: publish with video to turn the camera on.": (
        "Votre flux n'envoie pas de vidéo : publiez avec la vidéo pour allumer la caméra."
    ),
    "Already on stage.": "Déjà sur scène.",
    "That seat is taken.": "Cette place est prise.",
    # recording on the live room (media.recording.live)
    "This live is being recorded": "Ce live est enregistré",
    "REC": "REC",
    "Recording: on": "Enregistrement : activé",
    "Recording: off": "Enregistrement : désactivé",
    "The server said %(status)s.": "Le serveur a répondu %(status)s.",
}

HEADER = (
    "Project-Id-Version: liverooms\n"
    "Language: fr\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "Plural-Forms: nplurals=2; plural=(n > 1);\n"
)


def read_po(path: Path) -> list[tuple[str, str | None, list[str]]]:
    """(msgid, msgid_plural, msgstrs) of each entry of a .po file (no msgctxt used here)."""
    entries: list[tuple[str, str | None, list[str]]] = []
    current: dict[str, list[str]] = {}
    key = ""

    def flush() -> None:
        if "msgid" in current:
            msgid = "".join(current["msgid"])
            plural = "".join(current["msgid_plural"]) if "msgid_plural" in current else None
            strs = [
                "".join(current[k]) for k in sorted((k for k in current if k.startswith("msgstr")), key=lambda k: k)
            ]
            entries.append((msgid, plural, strs))
        current.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'^(msgid_plural|msgid|msgstr(?:\[\d\])?)\s+(".*")$', line)
        if match:
            if match.group(1) == "msgid" and "msgid" in current:
                flush()
            key = match.group(1)
            current[key] = [ast.literal_eval(match.group(2))]
        elif line.startswith('"'):
            current[key].append(ast.literal_eval(line))
    flush()
    return entries


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_po(path: Path, msgids: list[tuple[str, str | None]]) -> list[str]:
    """Write the French .po for these msgids; return those with no translation."""
    missing = []
    lines = ['msgid ""', 'msgstr ""'] + [quote(part + "\n") for part in HEADER.splitlines()]
    for msgid, plural in msgids:
        if not msgid:
            continue
        french = FR.get(msgid)
        if french is None:
            missing.append(msgid)
        lines.append("")
        lines.append(f"msgid {quote(msgid)}")
        if plural is not None:
            forms = french if isinstance(french, tuple) else (french or "", french or "")
            lines.append(f"msgid_plural {quote(plural)}")
            lines += [f"msgstr[{n}] {quote(form)}" for n, form in enumerate(forms)]
        else:
            lines.append(f"msgstr {quote(french if isinstance(french, str) else '')}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return missing


def compile_mo(po: Path) -> bytes:
    """The GNU .mo for a .po (what msgfmt makes), in pure Python."""
    catalog: dict[bytes, bytes] = {}
    for msgid, plural, strs in read_po(po):
        if plural is None:
            key, value = msgid, strs[0] if strs else ""
        else:
            key, value = msgid + "\0" + plural, "\0".join(strs)
        if msgid and not value.replace("\0", ""):
            continue  # untranslated: gettext falls back to the English
        catalog[key.encode()] = value.encode()
    keys = sorted(catalog)
    ids = b"".join(k + b"\0" for k in keys)
    strs = b"".join(catalog[k] + b"\0" for k in keys)
    count = len(keys)
    start = 7 * 4 + 16 * count
    offsets_id, offsets_str, at = [], [], 0
    for k in keys:
        offsets_id.append((len(k), start + at))
        at += len(k) + 1
    at = 0
    for k in keys:
        offsets_str.append((len(catalog[k]), start + len(ids) + at))
        at += len(catalog[k]) + 1
    out = struct.pack("<7I", 0x950412DE, 0, count, 7 * 4, 7 * 4 + 8 * count, 0, 0)
    out += b"".join(struct.pack("<2I", *pair) for pair in offsets_id)
    out += b"".join(struct.pack("<2I", *pair) for pair in offsets_str)
    return out + ids + strs


def main() -> int:
    missing: list[str] = []
    for domain in ("django", "djangojs"):
        po = HERE / "fr" / "LC_MESSAGES" / f"{domain}.po"
        msgids = [(msgid, plural) for msgid, plural, _strs in read_po(po)]
        missing += write_po(po, msgids)
        po.with_suffix(".mo").write_bytes(compile_mo(po))
    for msgid in missing:
        print(f"untranslated: {msgid!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
