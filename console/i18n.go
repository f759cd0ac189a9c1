package console

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/rosterhq/roster/core"
)

// texts holds the pages' words per language (core.MailLanguages). A page is
// shown in the language its link was mailed in; ?lang= switches.
var texts = map[string]map[string]string{
	"en": {
		"support": "Questions? Write to", "installCatalog": "Install the App Catalog",
		"errCommon": "This password is one of the most common ones (found in lists of breached passwords).", "errCommonVariant": "This password is a common one with digits, symbols or letter swaps added (found in lists of breached passwords).",
		"errRepetitive": "This password is a run of repeated or sequential characters.",
		"policyMin":     "At least %d characters", "policyWith": ", with ", "policyAnd": " and ", "policyUpper": "an upper-case letter",
		"policyLower": "a lower-case letter", "policyDigit": "a digit", "policySymbol": "a symbol", "policyCommon": "Common and breached passwords are refused.",
		"acceptTitle": "Accept your invitation", "join": "Join %s", "invitedAs": "Hello %s, you are invited as",
		"choosePassword": "Choose a password", "repeatPassword": "Repeat the password", "minLength": "Use a long passphrase; common passwords are refused.",
		"setAndAccept": "Set password and accept", "directoryNote": "You sign in with your organisation's directory account; no password is set here.",
		"accept": "Accept the invitation", "validUntil": "This link is valid until %s and can be used once.",
		"welcome": "Welcome, %s", "accepted": "Your invitation is accepted and your account %s is active.", "continue": "Continue to sign in",
		"inviteHeading": "This invitation link cannot be used", "inviteHint": "Nothing was changed. If you still need access, ask an administrator of your organisation to send you a new invitation.",
		"resetHeading": "This password reset link cannot be used", "resetHint": "Nothing was changed. Ask for a new link from the sign-in page, or ask an administrator.",
		"refused": "Refused", "refusedMsg": "This form can only be sent from roster's own page.", "errorTitle": "Error",
		"busyMsg": "The server is busy checking other passwords. Please try again in a moment.", "errorMsg": "Something went wrong on our side. Please try again later.", "stateConflict": "This account cannot do this in its current state.",
		"resetTitle": "Choose a new password", "resetIntro": "Hello %s, choose a new password for", "newPassword": "New password",
		"resetMin": "Use a long passphrase. You will be signed out everywhere.", "setNew": "Set the new password",
		"changedTitle": "Password changed", "changed": "The password of %s is changed. Every earlier session has ended.", "signIn": "Sign in",
		"differ": "The two passwords differ.", "formUnreadable": "The form could not be read; please try again.",
		"errMalformed": "The link is malformed; copy the whole link from the mail.", "errNotValid": "The link is not valid.",
		"errUsed": "The link was already used.", "errReplaced": "The link was replaced by a newer one.",
		"errExpired": "The link has expired.", "errShort": "The password must be at least {n} characters long.",
	},
	"de": {
		"support": "Fragen? Schreiben Sie an", "installCatalog": "App-Katalog installieren",
		"errCommon": "Dieses Passwort gehört zu den häufigsten (es steht in Listen bekannt gewordener Passwörter).", "errCommonVariant": "Dieses Passwort ist ein häufiges mit angehängten Ziffern, Zeichen oder vertauschten Buchstaben (es steht in Listen bekannt gewordener Passwörter).",
		"errRepetitive": "Dieses Passwort besteht aus wiederholten oder aufeinanderfolgenden Zeichen.",
		"policyMin":     "Mindestens %d Zeichen", "policyWith": ", mit ", "policyAnd": " und ", "policyUpper": "einem Großbuchstaben",
		"policyLower": "einem Kleinbuchstaben", "policyDigit": "einer Ziffer", "policySymbol": "einem Sonderzeichen", "policyCommon": "Häufige und bekannt gewordene Passwörter werden abgelehnt.",
		"acceptTitle": "Einladung annehmen", "join": "%s beitreten", "invitedAs": "Hallo %s, Sie sind eingeladen als",
		"choosePassword": "Passwort wählen", "repeatPassword": "Passwort wiederholen", "minLength": "Wählen Sie eine lange Passphrase; häufige Passwörter werden abgelehnt.",
		"setAndAccept": "Passwort setzen und annehmen", "directoryNote": "Sie melden sich mit dem Verzeichniskonto Ihrer Organisation an; hier wird kein Passwort gesetzt.",
		"accept": "Einladung annehmen", "validUntil": "Dieser Link ist bis %s gültig und kann einmal verwendet werden.",
		"welcome": "Willkommen, %s", "accepted": "Ihre Einladung ist angenommen und Ihr Konto %s ist aktiv.", "continue": "Weiter zur Anmeldung",
		"inviteHeading": "Dieser Einladungslink kann nicht verwendet werden", "inviteHint": "Es wurde nichts geändert. Wenn Sie weiterhin Zugang brauchen, bitten Sie eine Administratorin oder einen Administrator Ihrer Organisation um eine neue Einladung.",
		"resetHeading": "Dieser Link zum Zurücksetzen des Passworts kann nicht verwendet werden", "resetHint": "Es wurde nichts geändert. Fordern Sie auf der Anmeldeseite einen neuen Link an oder wenden Sie sich an die Administration.",
		"refused": "Abgelehnt", "refusedMsg": "Dieses Formular kann nur von der Seite von roster selbst gesendet werden.", "errorTitle": "Fehler",
		"busyMsg": "Der Server prüft gerade viele andere Passwörter. Bitte versuchen Sie es gleich noch einmal.", "errorMsg": "Bei uns ist etwas schiefgegangen. Bitte versuchen Sie es später erneut.", "stateConflict": "Für dieses Konto ist das in seinem jetzigen Zustand nicht möglich.",
		"resetTitle": "Neues Passwort wählen", "resetIntro": "Hallo %s, wählen Sie ein neues Passwort für", "newPassword": "Neues Passwort",
		"resetMin": "Wählen Sie eine lange Passphrase. Sie werden überall abgemeldet.", "setNew": "Neues Passwort setzen",
		"changedTitle": "Passwort geändert", "changed": "Das Passwort von %s ist geändert. Alle bisherigen Sitzungen sind beendet.", "signIn": "Anmelden",
		"differ": "Die beiden Passwörter sind verschieden.", "formUnreadable": "Das Formular konnte nicht gelesen werden; bitte versuchen Sie es erneut.",
		"errMalformed": "Der Link ist unvollständig; kopieren Sie den ganzen Link aus der E-Mail.", "errNotValid": "Der Link ist nicht gültig.",
		"errUsed": "Der Link wurde bereits verwendet.", "errReplaced": "Der Link wurde durch einen neueren ersetzt.",
		"errExpired": "Der Link ist abgelaufen.", "errShort": "Das Passwort muss mindestens {n} Zeichen lang sein.",
	},
	"fr": {
		"support": "Des questions ? Écrivez à", "installCatalog": "Installer le catalogue d'applications",
		"errCommon": "Ce mot de passe est parmi les plus courants (il figure dans des listes de mots de passe divulgués).", "errCommonVariant": "Ce mot de passe est un mot de passe courant auquel on a ajouté des chiffres, des symboles ou des lettres substituées (il figure dans des listes de mots de passe divulgués).",
		"errRepetitive": "Ce mot de passe est une suite de caractères répétés ou consécutifs.",
		"policyMin":     "Au moins %d caractères", "policyWith": ", avec ", "policyAnd": " et ", "policyUpper": "une majuscule",
		"policyLower": "une minuscule", "policyDigit": "un chiffre", "policySymbol": "un symbole", "policyCommon": "Les mots de passe courants ou divulgués sont refusés.",
		"acceptTitle": "Accepter votre invitation", "join": "Rejoindre %s", "invitedAs": "Bonjour %s, vous êtes invité en tant que",
		"choosePassword": "Choisissez un mot de passe", "repeatPassword": "Répétez le mot de passe", "minLength": "Choisissez une longue phrase secrète ; les mots de passe courants sont refusés.",
		"setAndAccept": "Définir le mot de passe et accepter", "directoryNote": "Vous vous connectez avec le compte d'annuaire de votre organisation ; aucun mot de passe n'est défini ici.",
		"accept": "Accepter l'invitation", "validUntil": "Ce lien est valable jusqu'au %s et n'est utilisable qu'une fois.",
		"welcome": "Bienvenue, %s", "accepted": "Votre invitation est acceptée et votre compte %s est actif.", "continue": "Continuer vers la connexion",
		"inviteHeading": "Ce lien d'invitation ne peut pas être utilisé", "inviteHint": "Rien n'a été modifié. Si vous avez toujours besoin d'un accès, demandez une nouvelle invitation à un administrateur de votre organisation.",
		"resetHeading": "Ce lien de réinitialisation ne peut pas être utilisé", "resetHint": "Rien n'a été modifié. Demandez un nouveau lien depuis la page de connexion ou à un administrateur.",
		"refused": "Refusé", "refusedMsg": "Ce formulaire ne peut être envoyé que depuis la page de roster.", "errorTitle": "Erreur",
		"busyMsg": "Le serveur vérifie beaucoup d'autres mots de passe. Veuillez réessayer dans un instant.", "errorMsg": "Une erreur s'est produite de notre côté. Veuillez réessayer plus tard.", "stateConflict": "Ce compte ne peut pas faire cela dans son état actuel.",
		"resetTitle": "Choisissez un nouveau mot de passe", "resetIntro": "Bonjour %s, choisissez un nouveau mot de passe pour", "newPassword": "Nouveau mot de passe",
		"resetMin": "Choisissez une longue phrase secrète. Vous serez déconnecté partout.", "setNew": "Définir le nouveau mot de passe",
		"changedTitle": "Mot de passe modifié", "changed": "Le mot de passe de %s est modifié. Toutes les sessions précédentes sont terminées.", "signIn": "Se connecter",
		"differ": "Les deux mots de passe sont différents.", "formUnreadable": "Le formulaire n'a pas pu être lu ; veuillez réessayer.",
		"errMalformed": "Le lien est incomplet ; copiez le lien entier depuis le message.", "errNotValid": "Le lien n'est pas valide.",
		"errUsed": "Le lien a déjà été utilisé.", "errReplaced": "Le lien a été remplacé par un plus récent.",
		"errExpired": "Le lien a expiré.", "errShort": "Le mot de passe doit comporter au moins {n} caractères.",
	},
	"es": {
		"support": "¿Preguntas? Escriba a", "installCatalog": "Instalar el catálogo de aplicaciones",
		"errCommon": "Esta contraseña es una de las más comunes (figura en listas de contraseñas filtradas).", "errCommonVariant": "Esta contraseña es una común con dígitos, símbolos o letras sustituidas (figura en listas de contraseñas filtradas).",
		"errRepetitive": "Esta contraseña es una serie de caracteres repetidos o consecutivos.",
		"policyMin":     "Al menos %d caracteres", "policyWith": ", con ", "policyAnd": " y ", "policyUpper": "una mayúscula",
		"policyLower": "una minúscula", "policyDigit": "un dígito", "policySymbol": "un símbolo", "policyCommon": "Se rechazan las contraseñas comunes o filtradas.",
		"acceptTitle": "Aceptar su invitación", "join": "Unirse a %s", "invitedAs": "Hola %s, está invitado como",
		"choosePassword": "Elija una contraseña", "repeatPassword": "Repita la contraseña", "minLength": "Use una frase de contraseña larga; se rechazan las contraseñas comunes.",
		"setAndAccept": "Establecer contraseña y aceptar", "directoryNote": "Inicia sesión con la cuenta de directorio de su organización; aquí no se establece ninguna contraseña.",
		"accept": "Aceptar la invitación", "validUntil": "Este enlace es válido hasta el %s y solo puede usarse una vez.",
		"welcome": "Bienvenido, %s", "accepted": "Su invitación está aceptada y su cuenta %s está activa.", "continue": "Continuar al inicio de sesión",
		"inviteHeading": "Este enlace de invitación no se puede usar", "inviteHint": "No se ha cambiado nada. Si todavía necesita acceso, pida una nueva invitación a un administrador de su organización.",
		"resetHeading": "Este enlace para restablecer la contraseña no se puede usar", "resetHint": "No se ha cambiado nada. Pida un enlace nuevo desde la página de inicio de sesión o a un administrador.",
		"refused": "Rechazado", "refusedMsg": "Este formulario solo puede enviarse desde la propia página de roster.", "errorTitle": "Error",
		"busyMsg": "El servidor está comprobando muchas otras contraseñas. Vuelva a intentarlo en un momento.", "errorMsg": "Algo ha fallado de nuestro lado. Vuelva a intentarlo más tarde.", "stateConflict": "Esta cuenta no puede hacer esto en su estado actual.",
		"resetTitle": "Elija una contraseña nueva", "resetIntro": "Hola %s, elija una contraseña nueva para", "newPassword": "Contraseña nueva",
		"resetMin": "Use una frase de contraseña larga. Se cerrarán todas sus sesiones.", "setNew": "Establecer la contraseña nueva",
		"changedTitle": "Contraseña cambiada", "changed": "La contraseña de %s ha cambiado. Todas las sesiones anteriores han terminado.", "signIn": "Iniciar sesión",
		"differ": "Las dos contraseñas son distintas.", "formUnreadable": "No se pudo leer el formulario; inténtelo de nuevo.",
		"errMalformed": "El enlace está incompleto; copie el enlace entero del mensaje.", "errNotValid": "El enlace no es válido.",
		"errUsed": "El enlace ya se ha usado.", "errReplaced": "El enlace ha sido sustituido por uno más reciente.",
		"errExpired": "El enlace ha caducado.", "errShort": "La contraseña debe tener al menos {n} caracteres.",
	},
}

// policyText states an organisation's password policy in the page's language:
// "At least 10 characters, with an upper-case letter and a digit. Common and
// breached passwords are refused."
func policyText(t map[string]string, p core.PasswordPolicy) string {
	var with []string
	for _, c := range []struct {
		on  bool
		key string
	}{{p.RequireUpper, "policyUpper"}, {p.RequireLower, "policyLower"}, {p.RequireDigit, "policyDigit"}, {p.RequireSymbol, "policySymbol"}} {
		if c.on {
			with = append(with, t[c.key])
		}
	}
	s := fmt.Sprintf(t["policyMin"], p.MinLength)
	if len(with) > 0 {
		s += t["policyWith"]
		if len(with) > 1 {
			s += strings.Join(with[:len(with)-1], ", ") + t["policyAnd"]
		}
		s += with[len(with)-1]
	}
	return s + ". " + t["policyCommon"]
}

// pageLanguage is ?lang= when it names a supported language, else the
// link's language, else the browser's first supported one, else English.
func pageLanguage(r *http.Request, linkLang string) string {
	if l := r.URL.Query().Get("lang"); core.IsMailLanguage(l) {
		return l
	}
	if core.IsMailLanguage(linkLang) {
		return linkLang
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if i := strings.IndexByte(tag, '-'); i > 0 {
			tag = tag[:i]
		}
		if core.IsMailLanguage(tag) {
			return tag
		}
	}
	return core.DefaultMailLanguage
}

// coreMessageKeys maps what core says about a link or password to a text key.
var coreMessageKeys = []struct{ contains, key string }{
	{"malformed", "errMalformed"},
	{"not valid", "errNotValid"},
	{"already used", "errUsed"},
	{"replaced by a newer", "errReplaced"},
	{"expired", "errExpired"},
	{"most common passwords", "errCommon"},
	{"common password with", "errCommonVariant"},
	{"repeated or sequential", "errRepetitive"},
}

// minLengthRE finds the policy's minimum in core's "must be at least N characters long".
var minLengthRE = regexp.MustCompile(`at least (\d+) characters`)

// localize turns a core validation message into the page's language; a
// message without a translation is shown as core wrote it.
func localize(t map[string]string, msg string) string {
	if m := minLengthRE.FindStringSubmatch(msg); m != nil {
		return strings.ReplaceAll(t["errShort"], "{n}", m[1])
	}
	for _, m := range coreMessageKeys {
		if strings.Contains(msg, m.contains) {
			return t[m.key]
		}
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}
